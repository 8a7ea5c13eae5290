import * as assert from "assert";
import { missingCornerFindings } from "../../policypack/policies/missing-corners";

const knp = (namespace: string, spec: Record<string, unknown>) => ({
  object: {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { namespace, name: `${namespace}-network-policy` },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ...spec },
  },
  source: `${namespace}.yaml#0`,
});
const ns = (name: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
});
const noUrn = () => undefined;

describe("missing-corners (plain YAML cross-object check)", () => {
  // falco admits a scrape from default on 8765; default's egress only reaches loki.
  const falco = knp("falco", {
    ingress: [{ from: [ns("default")], ports: [{ port: 8765 }] }],
    egress: [],
  });
  const defaultNs = knp("default", {
    ingress: [],
    egress: [{ to: [ns("loki")], ports: [{ port: 3100 }] }],
  });
  const loki = knp("loki", {
    ingress: [{ from: [ns("default")], ports: [{ port: 3100 }] }],
    egress: [],
  });

  it("reports an ingress whose source namespace never allows the egress", () => {
    const findings = missingCornerFindings([falco, defaultNs, loki], false, noUrn);
    assert.strictEqual(findings.length, 1, findings.map((f) => f.message).join("\n"));
    assert.match(
      findings[0].message,
      /falco-network-policy spec\.ingress\[0\] \(falco\.yaml#0\) allows default -> falco on TCP 8765/,
    );
    assert.match(findings[0].fix, /add the egress rule in default/);
  });

  it("reports the egress corner too, and is quiet when both corners exist", () => {
    const lokiClosed = knp("loki", { ingress: [], egress: [] });
    const findings = missingCornerFindings([defaultNs, lokiClosed], false, noUrn);
    assert.strictEqual(findings.length, 1);
    assert.match(
      findings[0].message,
      /default -> loki on TCP 3100 at the egress, but the ingress corner in loki/,
    );
    assert.deepStrictEqual(missingCornerFindings([defaultNs, loki], false, noUrn), []);
  });

  it("reports a scrape from a namespace the input does not know, unless the input is partial", () => {
    const unipoller = knp("unipoller", {
      ingress: [{ from: [ns("monitoring")], ports: [{ port: 9130 }] }],
      egress: [],
    });
    const whole = missingCornerFindings([unipoller], false, noUrn);
    assert.strictEqual(whole.length, 1);
    assert.match(
      whole[0].message,
      /names namespace monitoring, which the input neither protects nor declares/,
    );
    assert.deepStrictEqual(missingCornerFindings([unipoller], true, noUrn), []);
    // With --partial, a corner toward a namespace outside the input is not judged either.
    assert.deepStrictEqual(missingCornerFindings([falco], true, noUrn), []);
  });

  describe("the ztunnel corner at a meshed destination", () => {
    const mesh = {
      namespace: "istio-system",
      hbonePort: 15008,
      probeSource: "169.254.7.127",
      meshedNamespaces: ["default", "loki"],
    };
    const authorization = (ports: string[]) => ({
      object: {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { namespace: "loki", name: "loki-authorization" },
        spec: {
          action: "ALLOW",
          rules: [
            { from: [{ source: { namespaces: ["default"] } }], to: [{ operation: { ports } }] },
          ],
        },
      },
      source: "loki-authorization.yaml#0",
    });

    it("reports both rules when ztunnel refuses what both CNI corners allow", () => {
      const findings = missingCornerFindings(
        [defaultNs, loki, authorization(["3101"])],
        false,
        noUrn,
        mesh,
      );
      assert.deepStrictEqual(
        findings.map((f) => f.message.replace(/ \(.*?\) allows/, " allows").split(", and")[0]),
        [
          "NetworkPolicy/default/default-network-policy spec.egress[0] allows default -> loki on TCP 3100",
          "NetworkPolicy/loki/loki-network-policy spec.ingress[0] allows default -> loki on TCP 3100",
        ],
      );
      for (const f of findings) {
        assert.match(f.message, /ztunnel's authorization in meshed loki does not/);
        assert.match(
          f.fix,
          /with ports 3100 to an ALLOW AuthorizationPolicy selecting the pods in loki/,
        );
      }
    });

    it("is quiet when the policy admits the port, and without the mesh", () => {
      assert.deepStrictEqual(
        missingCornerFindings([defaultNs, loki, authorization(["3100"])], false, noUrn, mesh),
        [],
      );
      // Without the mesh facts the Istio objects are not a gate: only the CNI corners count.
      assert.deepStrictEqual(
        missingCornerFindings([defaultNs, loki, authorization(["3101"])], false, noUrn),
        [],
      );
    });
  });
});
