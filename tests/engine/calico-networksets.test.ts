/**
 * Calico NetworkSet and GlobalNetworkSet as the named peers rule selectors match, and Calico
 * Enterprise `destination.domains` as a peer of its own. The expected verdicts are written out
 * by hand from libcalico-go's getEndpointSelector (updateprocessors/rules.go) and the labels its
 * network-set processors give each kind; see docs/engine.md, "Calico network sets and domains".
 */
import assert from "node:assert/strict";
import {
  ManifestError,
  buildModel,
  explainFlow,
  explainedDiff,
  renderExplainedDiff,
  promotedModel,
  renderConnectivityPage,
  renderMatrixMarkdown,
  type ClusterModel,
} from "../../engine";
import { allowed, cnp, ns, pod } from "./helpers";

type Obj = Record<string, unknown>;

function networkSet(namespace: string, name: string, labels: Obj, nets: unknown): Obj {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "NetworkSet",
    metadata: { name, namespace, labels },
    spec: { nets },
  };
}

function globalNetworkSet(name: string, labels: Obj, spec: Obj): Obj {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "GlobalNetworkSet",
    metadata: { name, labels },
    spec,
  };
}

function gnp(name: string, spec: Obj): Obj {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "GlobalNetworkPolicy",
    metadata: { name },
    spec,
  };
}

/** Egress of `app == 'web'` on TCP 443 to `destination`, nothing else. */
function webEgress(destination: Obj): Obj {
  return {
    selector: "app == 'web'",
    types: ["Egress"],
    egress: [{ action: "Allow", protocol: "TCP", destination: { ...destination, ports: [443] } }],
  };
}

const LAN_HOST = "192.168.10.5";
const BACKUP_HOST = "203.0.113.3";
const ELSEWHERE = "198.51.100.7";

/** shop (team=web) and ops (team=ops), each with a web pod; a set per namespace, one global. */
const cluster: Obj[] = [
  ns("shop", { team: "web" }),
  ns("ops", { team: "ops" }),
  pod("shop", "web", { app: "web" }, { ip: "10.244.0.10" }),
  pod("ops", "web", { app: "web" }, { ip: "10.244.0.20" }),
  networkSet("shop", "trusted-lan", { role: "lan" }, ["192.168.10.0/24"]),
  networkSet("ops", "ops-lan", { role: "lan" }, ["172.16.5.0/24"]),
  globalNetworkSet("backups", { role: "lan" }, { nets: ["203.0.113.0/28"] }),
];

function withPolicies(...policies: Obj[]): ClusterModel {
  return buildModel([...cluster, ...policies]);
}

function problemsOf(objects: Obj[]): string {
  try {
    buildModel(objects);
  } catch (error) {
    if (error instanceof ManifestError) return error.message;
    throw error;
  }
  assert.fail("expected the input to be refused");
}

describe("Calico network sets as rule peers", () => {
  it("reads both kinds, with the labels Calico gives them, instead of refusing them", () => {
    const m = withPolicies();
    assert.deepEqual(
      m.networkSets?.map((s) => s.label),
      [
        "globalnetworkset backups (203.0.113.0/28)",
        "networkset ops/ops-lan (172.16.5.0/24)",
        "networkset shop/trusted-lan (192.168.10.0/24)",
      ],
    );
    const shopSet = m.networkSets?.find((s) => s.name === "trusted-lan");
    assert.equal(shopSet?.calicoLabels["projectcalico.org/namespace"], "shop");
    assert.equal(shopSet?.calicoLabels["pcns.team"], "web");
    const globalSet = m.networkSets?.find((s) => s.name === "backups");
    assert.deepEqual(globalSet?.calicoLabels, { role: "lan" });
    // A set alone does not make its namespace one the model holds.
    assert.equal(buildModel([cluster[4]]).namespaces.has("shop"), false);
  });

  it("a namespaced policy's selector sees the sets of its own namespace only", () => {
    const m = withPolicies(cnp("shop", "out", webEgress({ selector: "role == 'lan'" })));
    assert.equal(allowed(m, "shop/web", LAN_HOST, 443), true);
    assert.equal(allowed(m, "shop/web", LAN_HOST, 80), false);
    assert.equal(allowed(m, "shop/web", "172.16.5.9", 443), false, "ops's set is not in scope");
    assert.equal(allowed(m, "shop/web", BACKUP_HOST, 443), false, "a global set needs global()");
    assert.equal(allowed(m, "shop/web", ELSEWHERE, 443), false);
  });

  it("a namespaceSelector reaches the sets of the namespaces it selects, by label or by name", () => {
    for (const namespaceSelector of ["team == 'ops'", "projectcalico.org/name == 'ops'"]) {
      const m = withPolicies(
        cnp("shop", "out", webEgress({ selector: "role == 'lan'", namespaceSelector })),
      );
      assert.equal(allowed(m, "shop/web", "172.16.5.9", 443), true, namespaceSelector);
      assert.equal(allowed(m, "shop/web", LAN_HOST, 443), false, namespaceSelector);
      assert.equal(allowed(m, "shop/web", BACKUP_HOST, 443), false, namespaceSelector);
    }
    // all() is "every namespace": namespaced sets, not the global one.
    const all = withPolicies(
      cnp("shop", "out", webEgress({ selector: "role == 'lan'", namespaceSelector: "all()" })),
    );
    assert.equal(allowed(all, "shop/web", "172.16.5.9", 443), true);
    assert.equal(allowed(all, "shop/web", BACKUP_HOST, 443), false);
  });

  it("global() reaches GlobalNetworkSets only, and a negated namespaceSelector reaches them too", () => {
    const viaGlobal = withPolicies(
      cnp("shop", "out", webEgress({ selector: "role == 'lan'", namespaceSelector: "global()" })),
    );
    assert.equal(allowed(viaGlobal, "shop/web", BACKUP_HOST, 443), true);
    assert.equal(allowed(viaGlobal, "shop/web", LAN_HOST, 443), false);
    // Rewritten to pcns.team != 'web': true for a set with no pcns. labels at all.
    const negated = withPolicies(
      cnp(
        "shop",
        "out",
        webEgress({ selector: "role == 'lan'", namespaceSelector: "team != 'web'" }),
      ),
    );
    assert.equal(allowed(negated, "shop/web", BACKUP_HOST, 443), true);
    assert.equal(allowed(negated, "shop/web", "172.16.5.9", 443), true);
    assert.equal(allowed(negated, "shop/web", LAN_HOST, 443), false);
  });

  it("a GlobalNetworkPolicy's unscoped selector sees every set, global and namespaced", () => {
    const m = withPolicies(gnp("out", webEgress({ selector: "role == 'lan'" })));
    for (const address of [LAN_HOST, "172.16.5.9", BACKUP_HOST])
      assert.equal(allowed(m, "shop/web", address, 443), true, address);
    assert.equal(allowed(m, "shop/web", ELSEWHERE, 443), false);
  });

  it("ANDs nets with the selector, and a notSelector excludes a set's addresses", () => {
    const both = withPolicies(
      cnp("shop", "out", webEgress({ selector: "role == 'lan'", nets: ["192.168.10.0/28"] })),
    );
    assert.equal(allowed(both, "shop/web", LAN_HOST, 443), true);
    assert.equal(allowed(both, "shop/web", "192.168.10.200", 443), false);
    const excluded = withPolicies(
      gnp("out", webEgress({ notSelector: "role == 'lan'", nets: ["192.168.0.0/16"] })),
    );
    assert.equal(allowed(excluded, "shop/web", LAN_HOST, 443), false);
    assert.equal(allowed(excluded, "shop/web", "192.168.20.1", 443), true);
  });

  it("matches pods inside a set's nets only when ipBlockMatchesPods is on", () => {
    const objects = [
      ...cluster,
      networkSet("shop", "pods", { role: "pods" }, ["10.244.0.0/24"]),
      cnp("shop", "out", webEgress({ selector: "role == 'pods'", namespaceSelector: "all()" })),
    ];
    const calico = buildModel(objects);
    assert.equal(allowed(calico, "shop/web", "ops/web", 443), true);
    const analyzer = buildModel(objects, { ipBlockMatchesPods: false });
    assert.equal(allowed(analyzer, "shop/web", "ops/web", 443), false);
  });

  it("names the set in explain and in the matrix", () => {
    const m = withPolicies(cnp("shop", "out", webEgress({ selector: "role == 'lan'" })));
    const text = explainFlow(m, {
      from: { namespace: "shop", podLabels: { app: "web" } },
      to: { ip: LAN_HOST },
      port: 443,
    }).text;
    assert.match(text, /external 192\.168\.10\.5 \(in networkset shop\/trusted-lan\): allowed/);
    assert.match(text, /or networkset shop\/trusted-lan \(192\.168\.10\.0\/24\)/);
    const matrix = renderMatrixMarkdown(m);
    assert.match(
      matrix,
      /\| shop \| networkset shop\/trusted-lan \(192\.168\.10\.0\/24\) \| TCP 443 \|/,
    );
  });

  it("names the set in the explained diff when its nets change", () => {
    const policy = cnp("shop", "out", webEgress({ selector: "role == 'lan'" }));
    const before = withPolicies(policy);
    const wider = cluster.map((o) =>
      o === cluster[4] ? networkSet("shop", "trusted-lan", { role: "lan" }, ["192.168.0.0/16"]) : o,
    );
    const after = buildModel([...wider, policy]);
    const text = renderExplainedDiff(explainedDiff(before, after));
    assert.match(text, /shop -> networkset\/shop\/trusted-lan \(2 blocks\)/);
  });

  it("refuses what Calico refuses on a set, with its location", () => {
    const bad = (spec: Obj, labels: Obj = {}): Obj => ({
      apiVersion: "projectcalico.org/v3",
      kind: "NetworkSet",
      metadata: { name: "odd", namespace: "shop", labels },
      spec,
    });
    assert.match(
      problemsOf([bad({ nets: ["10.0.0.0/8"], netz: ["10.1.0.0/16"] })]),
      /NetworkSet\/shop\/odd spec\.netz: unknown field/,
    );
    assert.match(
      problemsOf([bad({ nets: ["10.0.0.0/33"] })]),
      /NetworkSet\/shop\/odd spec\.nets\[0\]: invalid CIDR/,
    );
    assert.match(
      problemsOf([bad({ allowedEgressDomains: ["example.com"] })]),
      /spec\.allowedEgressDomains: is Calico Enterprise only/,
    );
    assert.match(
      problemsOf([bad({}, { "projectcalico.org/namespace": "ops" })]),
      /metadata\.labels\.projectcalico\.org\/namespace: is reserved/,
    );
    // A bare address is a host route, as Calico's ParseCIDROrIP reads it.
    const host = buildModel([bad({ nets: ["192.0.2.1"] })]);
    assert.equal(host.networkSets?.[0].label, "networkset shop/odd (192.0.2.1/32)");
  });

  it("keeps staged policies that select a set from enforcing, and promotes them with the set", () => {
    const staged = {
      apiVersion: "projectcalico.org/v3",
      kind: "StagedNetworkPolicy",
      metadata: { name: "out", namespace: "shop" },
      spec: webEgress({ selector: "role == 'lan'" }),
    };
    const deny = cnp("shop", "deny", { selector: "app == 'web'", types: ["Egress"] });
    const m = withPolicies(deny, staged);
    assert.equal(allowed(m, "shop/web", LAN_HOST, 443), false);
    assert.equal(allowed(promotedModel(m), "shop/web", LAN_HOST, 443), true);
  });
});

describe("Calico Enterprise destination.domains", () => {
  const domainsPolicy = cnp("shop", "out", webEgress({ domains: ["example.com", "*.github.com"] }));

  it("is a peer of its own: no address, pod or everywhere", () => {
    const m = withPolicies(domainsPolicy);
    const rule = m.policies[0].egress[0];
    assert.ok(rule.destinations !== "any");
    assert.deepEqual(rule.destinations[0].domains, ["example.com", "*.github.com"]);
    assert.equal(rule.destinations[0].description, "domains example.com, *.github.com");
    assert.deepEqual(rule.calico?.destination.domains, ["example.com", "*.github.com"]);
    for (const address of [ELSEWHERE, "8.8.8.8", LAN_HOST])
      assert.equal(allowed(m, "shop/web", address, 443), false, address);
    assert.equal(allowed(m, "shop/web", "ops/web", 443), false);
  });

  it("is named in explain, which says its addresses are outside static analysis", () => {
    const text = explainFlow(withPolicies(domainsPolicy), {
      from: { namespace: "shop", podLabels: { app: "web" } },
      to: { ip: "140.82.112.3" },
      port: 443,
    }).text;
    assert.match(text, /spec\.egress\[0\] allows TCP 443 to domains example\.com, \*\.github\.com/);
    assert.match(text, /learned from DNS at run time, outside static analysis/);
    const otherPort = explainFlow(withPolicies(domainsPolicy), {
      from: { namespace: "shop", podLabels: { app: "web" } },
      to: { ip: "140.82.112.3" },
      port: 22,
    }).text;
    assert.doesNotMatch(otherPort, /domains/);
  });

  it("appears in the matrix as its own destination", () => {
    const matrix = renderMatrixMarkdown(withPolicies(domainsPolicy));
    assert.match(matrix, /\| shop \| domains: example\.com, \*\.github\.com \| TCP 443 \|/);
  });

  it("is drawn as its own end in the pictures, beside a network set", async () => {
    const m = withPolicies(
      domainsPolicy,
      cnp("shop", "lan", webEgress({ selector: "role == 'lan'" })),
    );
    const page = await renderConnectivityPage(m);
    const outside = page.pictures.find((p) => p.id === "outside-svg");
    const labels = outside?.graph.nodes.map((n) => n.label) ?? [];
    assert.ok(labels.includes("domains: example.com, *.github.com"), labels.join(" | "));
    assert.ok(labels.includes("networkset shop/trusted-lan (192.168.10.0/24)"), labels.join(" | "));
  });

  it("is refused where Calico Enterprise does not give it a meaning, with its location", () => {
    const rule = (r: Obj): Obj =>
      cnp("shop", "bad", { selector: "app == 'web'", types: ["Egress", "Ingress"], ...r });
    assert.match(
      problemsOf([
        rule({ egress: [{ action: "Deny", protocol: "TCP", destination: { domains: ["x.io"] } }] }),
      ]),
      /spec\.egress\[0\]\.destination\.domains: domains are only valid in egress Allow rules/,
    );
    assert.match(
      problemsOf([rule({ ingress: [{ action: "Allow", source: { domains: ["x.io"] } }] })]),
      /spec\.ingress\[0\]\.source\.domains: domains can only name a destination/,
    );
    assert.match(
      problemsOf([
        rule({
          egress: [{ action: "Allow", destination: { domains: ["x.io"], nets: ["1.2.3.0/24"] } }],
        }),
      ]),
      /spec\.egress\[0\]\.destination\.domains: cannot be judged together with spec\.egress\[0\]\.destination\.nets/,
    );
    assert.match(
      problemsOf([rule({ egress: [{ action: "Allow", destination: { domains: ["bad name"] } }] })]),
      /spec\.egress\[0\]\.destination\.domains\[0\]: invalid domain name "bad name"/,
    );
  });
});
