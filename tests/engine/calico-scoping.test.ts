/**
 * Calico entity-rule scoping, one test per combination of selector fields, for a namespaced
 * NetworkPolicy and a GlobalNetworkPolicy, as a source (ingress rule) and as a destination (egress
 * rule), with Allow and Deny. The expected peers are written out by hand from libcalico-go's
 * getEndpointSelector (lib/backend/syncersv1/updateprocessors/rules.go); see docs/engine.md.
 */
import assert from "node:assert/strict";
import { ManifestError, buildModel, explainFlow, type ClusterModel } from "../../engine";
import { allowed, ns } from "./helpers";

type Obj = Record<string, unknown>;

const EXTERNAL = "203.0.113.5";
/** Every peer of a/web the tests look at: pods of the policy's namespace, of another, an address. */
const PEERS = ["a/x", "a/y", "b/x", "b/y", EXTERNAL] as const;
type Peer = (typeof PEERS)[number];

function workloadPod(namespace: string, name: string, app: string, serviceAccount?: string): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { app } },
    spec: {
      ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
      containers: [{ name: "main" }],
    },
  };
}

function serviceAccount(namespace: string, name: string, labels: Record<string, string>): Obj {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels } };
}

/** a (team=red): web, x (service account robot), y; b (team=blue): x, y (service account robot). */
const cluster: Obj[] = [
  ns("a", { team: "red" }),
  ns("b", { team: "blue" }),
  workloadPod("a", "web", "web"),
  workloadPod("a", "x", "x", "robot"),
  workloadPod("a", "y", "y"),
  workloadPod("b", "x", "x"),
  workloadPod("b", "y", "y", "robot"),
  serviceAccount("a", "default", {}),
  serviceAccount("b", "default", {}),
  serviceAccount("a", "robot", { role: "bot" }),
  serviceAccount("b", "robot", { role: "bot" }),
];

type Scope = "namespaced" | "global";
type Direction = "source" | "destination";
type Action = "Allow" | "Deny";

/** A policy selecting a/web with one rule on TCP 80 whose `direction` entity is `entity`. */
function policy(scope: Scope, direction: Direction, action: Action, entity: Obj): Obj {
  const ruleFor = (what: Obj): Obj =>
    direction === "source"
      ? { action: what.action, protocol: "TCP", source: what.entity, destination: { ports: [80] } }
      : {
          action: what.action,
          protocol: "TCP",
          destination: { ...(what.entity as Obj), ports: [80] },
        };
  const rules = [ruleFor({ action, entity })];
  // After a Deny rule, everything else on port 80 is allowed, so the Deny's reach shows.
  if (action === "Deny") rules.push(ruleFor({ action: "Allow", entity: {} }));
  const spec = {
    selector: "app == 'web'",
    types: [direction === "source" ? "Ingress" : "Egress"],
    [direction === "source" ? "ingress" : "egress"]: rules,
  };
  return scope === "namespaced"
    ? {
        apiVersion: "projectcalico.org/v3",
        kind: "NetworkPolicy",
        metadata: { name: "p", namespace: "a" },
        spec,
      }
    : {
        apiVersion: "projectcalico.org/v3",
        kind: "GlobalNetworkPolicy",
        metadata: { name: "p" },
        spec,
      };
}

function isAllowed(m: ClusterModel, direction: Direction, peer: Peer): boolean {
  return direction === "source" ? allowed(m, peer, "a/web", 80) : allowed(m, "a/web", peer, 80);
}

interface Combination {
  readonly name: string;
  readonly entity: Obj;
  /** The peers the entity matches, per policy scope. */
  readonly matches: Readonly<Record<Scope, readonly Peer[]>>;
}

const combinations: readonly Combination[] = [
  {
    name: "no selector field (matches everything, addresses too)",
    entity: {},
    matches: { namespaced: [...PEERS], global: [...PEERS] },
  },
  {
    name: 'empty strings are absent fields (selector: "", namespaceSelector: "")',
    entity: { selector: "", namespaceSelector: "", notSelector: "" },
    matches: { namespaced: [...PEERS], global: [...PEERS] },
  },
  {
    name: "selector",
    entity: { selector: "app == 'x'" },
    matches: { namespaced: ["a/x"], global: ["a/x", "b/x"] },
  },
  {
    name: "notSelector alone (scoped to the namespace; a global one keeps addresses)",
    entity: { notSelector: "app == 'x'" },
    matches: { namespaced: ["a/y"], global: ["a/y", "b/y", EXTERNAL] },
  },
  {
    name: "selector and notSelector",
    entity: { selector: "has(app)", notSelector: "app == 'y'" },
    matches: { namespaced: ["a/x"], global: ["a/x", "b/x"] },
  },
  {
    name: "namespaceSelector on namespace labels",
    entity: { namespaceSelector: "team == 'blue'" },
    matches: { namespaced: ["b/x", "b/y"], global: ["b/x", "b/y"] },
  },
  {
    name: "namespaceSelector on projectcalico.org/name",
    entity: { namespaceSelector: "projectcalico.org/name == 'a'" },
    matches: { namespaced: ["a/x", "a/y"], global: ["a/x", "a/y"] },
  },
  {
    name: "namespaceSelector all() (every namespace, no address)",
    entity: { namespaceSelector: "all()" },
    matches: { namespaced: ["a/x", "a/y", "b/x", "b/y"], global: ["a/x", "a/y", "b/x", "b/y"] },
  },
  {
    name: "namespaceSelector all() and selector",
    entity: { namespaceSelector: "all()", selector: "app == 'x'" },
    matches: { namespaced: ["a/x", "b/x"], global: ["a/x", "b/x"] },
  },
  {
    name: "namespaceSelector and notSelector",
    entity: { namespaceSelector: "team == 'blue'", notSelector: "app == 'x'" },
    matches: { namespaced: ["b/y"], global: ["b/y"] },
  },
  {
    name: "serviceAccounts.names",
    entity: { serviceAccounts: { names: ["robot"] } },
    matches: { namespaced: ["a/x"], global: ["a/x", "b/y"] },
  },
  {
    name: "serviceAccounts.selector (ServiceAccount labels)",
    entity: { serviceAccounts: { selector: "role == 'bot'" } },
    matches: { namespaced: ["a/x"], global: ["a/x", "b/y"] },
  },
  {
    name: "serviceAccounts.names and selector (ANDed)",
    entity: { serviceAccounts: { names: ["default"], selector: "role == 'bot'" } },
    matches: { namespaced: [], global: [] },
  },
  {
    name: "serviceAccounts with namespaceSelector all()",
    entity: { serviceAccounts: { names: ["robot"] }, namespaceSelector: "all()" },
    matches: { namespaced: ["a/x", "b/y"], global: ["a/x", "b/y"] },
  },
  {
    name: "serviceAccounts and selector (ANDed)",
    entity: { serviceAccounts: { names: ["robot"] }, selector: "app == 'y'" },
    matches: { namespaced: [], global: ["b/y"] },
  },
  {
    name: "selector on labels inherited from the namespace (pcns.)",
    entity: { selector: "pcns.team == 'blue'" },
    matches: { namespaced: [], global: ["b/x", "b/y"] },
  },
  {
    name: "selector on the service-account label Calico adds",
    entity: { selector: "projectcalico.org/serviceaccount == 'robot'" },
    matches: { namespaced: ["a/x"], global: ["a/x", "b/y"] },
  },
  {
    name: "nets alone (addresses, and pods whose IP is inside)",
    entity: { nets: ["203.0.113.0/24"] },
    matches: { namespaced: [EXTERNAL], global: [EXTERNAL] },
  },
  {
    name: "notNets alone",
    entity: { notNets: ["203.0.113.0/24"] },
    matches: { namespaced: ["a/x", "a/y", "b/x", "b/y"], global: ["a/x", "a/y", "b/x", "b/y"] },
  },
  {
    name: "notSelector and nets (ANDed: a namespaced one matches nothing here)",
    entity: { notSelector: "app == 'x'", nets: ["203.0.113.0/24"] },
    matches: { namespaced: [], global: [EXTERNAL] },
  },
  {
    name: "selector and nets over the pod range",
    entity: { selector: "app == 'x'", nets: ["10.244.0.0/16"] },
    matches: { namespaced: ["a/x"], global: ["a/x", "b/x"] },
  },
];

describe("Calico entity-rule scoping (getEndpointSelector)", () => {
  for (const combination of combinations)
    for (const scope of ["namespaced", "global"] as const)
      it(`${scope}: ${combination.name}`, () => {
        const expected = new Set<Peer>(combination.matches[scope]);
        for (const direction of ["source", "destination"] as const)
          for (const action of ["Allow", "Deny"] as const) {
            const m = buildModel([
              ...cluster,
              policy(scope, direction, action, combination.entity),
            ]);
            for (const peer of PEERS) {
              const matched = expected.has(peer);
              assert.equal(
                isAllowed(m, direction, peer),
                action === "Allow" ? matched : !matched,
                `${action} rule, ${direction} ${JSON.stringify(combination.entity)}: ${peer} ` +
                  `${matched ? "matches" : "does not match"}`,
              );
            }
          }
      });

  it("denies the issue's example both ways: a pod of b and an external address, with the reason", () => {
    const example = {
      apiVersion: "projectcalico.org/v3",
      kind: "NetworkPolicy",
      metadata: { name: "web", namespace: "a" },
      spec: {
        selector: "app == 'web'",
        ingress: [
          {
            action: "Allow",
            protocol: "TCP",
            source: { notSelector: "app == 'x'" },
            destination: { ports: [80] },
          },
        ],
      },
    };
    const m = buildModel([...cluster, example]);
    const [rule] = m.policies[0].ingress;
    assert.ok(rule.sources !== "any");
    assert.equal(rule.sources[0].description, `pods in namespace a not matching "app == 'x'"`);
    for (const from of [{ namespace: "b", podLabels: { app: "y" } }, { ip: EXTERNAL }]) {
      const result = explainFlow(m, {
        from,
        to: { namespace: "a", podLabels: { app: "web" } },
        port: 80,
      });
      assert.equal(result.verdict, "denied", result.text);
      assert.match(
        result.text,
        /Ingress at the destination \(a\/web\): denied - selected by projectcalico\.org\/NetworkPolicy\/a\/web, but no rule matches TCP 80/,
        result.text,
      );
    }
    // A pod of a that is not app=x is the one peer the rule allows.
    const inside = explainFlow(m, {
      from: { namespace: "a", podLabels: { app: "y" } },
      to: { namespace: "a", podLabels: { app: "web" } },
      port: 80,
    });
    assert.equal(inside.verdict, "allowed", inside.text);
  });

  it("denies the example's egress mirror both ways: to a pod of b and to an external address", () => {
    const mirror = {
      apiVersion: "projectcalico.org/v3",
      kind: "NetworkPolicy",
      metadata: { name: "web-out", namespace: "a" },
      spec: {
        selector: "app == 'web'",
        egress: [
          {
            action: "Allow",
            protocol: "TCP",
            destination: { notSelector: "app == 'x'", ports: [80] },
          },
        ],
      },
    };
    const m = buildModel([...cluster, mirror]);
    for (const to of [{ namespace: "b", podLabels: { app: "y" } }, { ip: EXTERNAL }]) {
      const result = explainFlow(m, {
        from: { namespace: "a", podLabels: { app: "web" } },
        to,
        port: 80,
      });
      assert.equal(result.verdict, "denied", result.text);
      assert.match(
        result.text,
        /Egress at the source \(a\/web\): denied - selected by projectcalico\.org\/NetworkPolicy\/a\/web-out, but no rule matches TCP 80/,
        result.text,
      );
    }
    const inside = explainFlow(m, {
      from: { namespace: "a", podLabels: { app: "web" } },
      to: { namespace: "a", podLabels: { app: "y" } },
      port: 80,
    });
    assert.equal(inside.verdict, "allowed", inside.text);
  });

  it("reads global() in a namespaceSelector as non-namespaced entities only (no pod), and refuses it elsewhere", () => {
    // libcalico-go rewrites global() to !has(projectcalico.org/namespace): no workload endpoint.
    const withGlobal = policy("global", "source", "Allow", { namespaceSelector: "global()" });
    const m = buildModel([...cluster, withGlobal]);
    for (const peer of ["a/x", "a/y", "b/x", "b/y"] as const)
      assert.equal(allowed(m, peer, "a/web", 80), false, peer);
    const inSelector = policy("global", "source", "Allow", { selector: "global()" });
    assert.throws(
      () => buildModel([...cluster, inSelector]),
      (e: unknown) =>
        e instanceof ManifestError &&
        /spec\.ingress\[0\]\.source\.selector: invalid selector/.test(e.message) &&
        /only be used in a rule's namespaceSelector/.test(e.message),
    );
  });

  it("needs the ServiceAccount of every pod once a rule selects by service-account labels", () => {
    const withoutRobot = cluster.filter(
      (o) => !(o.kind === "ServiceAccount" && (o.metadata as Obj).name === "robot"),
    );
    const bySelector = policy("global", "source", "Allow", {
      serviceAccounts: { selector: "role == 'bot'" },
    });
    assert.throws(
      () => buildModel([...withoutRobot, bySelector]),
      (e: unknown) =>
        e instanceof ManifestError &&
        /Pod\/a\/x spec\.serviceAccountName: ServiceAccount a\/robot is not in the input/.test(
          e.message,
        ),
    );
    // Names alone need no ServiceAccount object.
    const byName = policy("global", "source", "Allow", { serviceAccounts: { names: ["robot"] } });
    const m = buildModel([...withoutRobot, byName]);
    assert.equal(allowed(m, "b/y", "a/web", 80), true);
    assert.equal(allowed(m, "b/x", "a/web", 80), false);
  });
});
