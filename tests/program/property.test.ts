/**
 * Issue 8 item 7, the property guard: random mutations of the homelab config and of its rendered
 * manifests. Every mutation must end in one of three ways:
 * 1. a located error: every config problem names its key path (`zt-netpol:flows[3].ports[0]: …`);
 * 2. an allowed set, computed by the engine, inside what the config declares plus the universal
 *    patterns (tests/program/declared-oracle.ts), with the pack's intent check agreeing;
 * 3. a mandatory pack violation that names the difference (the mutated object or its namespace).
 * Anything else (a crash, an unlocated message, an accepted config or a passing plan that allows
 * more than declared) fails the property. The tallies are printed at the end.
 */
import { renderNamespaceAuthorization } from "../../components/authorization";
import { strict as assert } from "assert";
import fc from "fast-check";
import { renderCalicoPolicy } from "../../components/calico";
import { expandConnections } from "../../components/connections";
import { renderNamespacePolicies } from "../../components/rules";
import { rawConfigFromFlat, readStackFile } from "../../config/load";
import { parseStrictCidr } from "../../config/net";
import type { StackConfig } from "../../config/types";
import { ConfigError, validateStackConfig } from "../../config/validate";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import { checkIntent } from "../../policypack/lib/intent";
import {
  evaluateResources,
  packConfigFromFacts,
  type CapturedResource,
  type PackConfig,
} from "../../policypack/run";
import { asPolicyEngineSees, renderStack } from "../../plan/render";
import { intervalsFromRanges, subtractIntervals } from "../../engine";
import { describeExcess, undeclaredAllows } from "./declared-oracle";
import { HOMELAB_FILE, type RawConfig } from "./stacks";

/**
 * A fixed seed, so a failure reproduces. `ZT_PROPERTY_SEED` explores other cases and
 * `ZT_PROPERTY_SCALE` multiplies the run counts (the defaults keep the file near 10 s of CPU).
 */
const SEED = Number(process.env.ZT_PROPERTY_SEED ?? 8_2026);
const SCALE = Number(process.env.ZT_PROPERTY_SCALE ?? 1);
const CONFIG_RUNS = 100 * SCALE;
const WELL_FORMED_RUNS = 30 * SCALE;
const MANIFEST_RUNS = 40 * SCALE;

/** A config problem is located when it starts with its key path, or its key for namespace typos. */
const LOCATED = /^(zt-netpol:[A-Za-z]+(\[\d+\]|\.[^\n]+?)*|[^\s:]+:[^\s:]+): \S/;

/** How the intent check names an excess: a namespace pair, or a namespace and a direction. */
function namedAs(excess: { from: string; to: string; external: boolean }): string {
  const namespace = (end: string) => end.split("/")[0];
  if (!excess.external) return `${namespace(excess.from)} -> ${namespace(excess.to)}`;
  const address = /^\d+\.\d+\.\d+\.\d+/;
  return address.test(excess.from)
    ? `${namespace(excess.to)} ingress from `
    : `${namespace(excess.from)} egress to `;
}

function tally(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function renderManifests(config: StackConfig): Record<string, unknown>[] {
  const connections = expandConnections(config);
  return config.namespaces.flatMap((ns) => {
    // What ClusterProtection renders for a meshed namespace too: its ztunnel authorization.
    const authorization =
      ns.meshed && config.cluster.mesh
        ? renderNamespaceAuthorization(config, ns.name, connections)
        : undefined;
    return [
      ...renderNamespacePolicies(ns.name, connections, config.cluster),
      ...ns.calicoPolicies.map((policy) => renderCalicoPolicy(ns.name, policy)),
      ...(authorization ? [authorization.peerAuthentication, ...authorization.policies] : []),
    ];
  }) as unknown as Record<string, unknown>[];
}

/**
 * What "inside the declared set" cannot see, because the declaration itself would be too wide: no
 * declared connection but the probe source's covers a protocol's whole port range, and internet
 * egress leaves every part of RFC 1918 out unless an exemption says otherwise.
 */
function assertZeroTrustIntent(config: StackConfig): void {
  for (const c of expandConnections(config)) {
    if (c.kind === "mesh-probe") continue;
    for (const protocol of ["TCP", "UDP", "SCTP"] as const) {
      const ranges = c.ports.filter((p) => p.protocol === protocol);
      const covered = subtractIntervals(
        [1, 65535],
        intervalsFromRanges(ranges.map((p): [number, number] => [p.port, p.endPort ?? p.port])),
      );
      assert.ok(
        ranges.length === 0 || covered.length > 0,
        `${c.name} declares every ${protocol} port`,
      );
    }
  }
  const excepted = intervalsFromRanges(
    [
      ...config.cluster.privateRanges,
      ...config.cluster.privateRangesExemptions.map((e) => e.range),
    ].map((cidr): [number, number] => {
      const r = parseStrictCidr(cidr);
      assert.ok(r, cidr);
      return [r.lo, r.hi];
    }),
  );
  for (const rfc1918 of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]) {
    const r = parseStrictCidr(rfc1918)!;
    assert.deepEqual(
      subtractIntervals([r.lo, r.hi], excepted),
      [],
      `${rfc1918} is reachable as "internet"`,
    );
  }
}

// ---------- config mutations ----------

const homelabFlat = readStackFile(HOMELAB_FILE);
const homelabRaw = rawConfigFromFlat(homelabFlat) as RawConfig;
const namespaceNames: string[] = homelabRaw.namespaces.map((n: { name: string }) => n.name);

const portValue = fc.oneof(
  fc.integer({ min: -2, max: 70000 }),
  fc.constantFrom(
    "1-65535",
    "1-1000",
    "1001-65535",
    "2-65535",
    "53/UDP",
    "53/udp",
    "8000-8010/TCP",
    "9000-8000",
    "443/ICMP",
    "https",
    "1-65535/UDP",
  ),
  fc.record({
    port: fc.integer({ min: 0, max: 66000 }),
    endPort: fc.integer({ min: 0, max: 66000 }),
    protocol: fc.constantFrom("TCP", "UDP", "SCTP", "tcp", "ICMP"),
  }),
  fc.constant(1.5),
  fc.constant(null),
);
const portList = fc.array(portValue, { minLength: 0, maxLength: 3 });
const labels = fc.dictionary(
  fc.constantFrom("app", "app.kubernetes.io/name", "Bad Key", "k8s-app"),
  fc.constantFrom("grafana", "web", "", "no spaces!", "kube-dns"),
  { maxKeys: 2 },
);
const endpoint = fc.oneof(
  fc.constantFrom(...namespaceNames),
  fc.constantFrom("internet", "Internet", "intrnet", "nowhere", "constructor", "kube-system"),
  fc.record({ namespace: fc.constantFrom(...namespaceNames, "internet"), podLabels: labels }),
  fc.record({ host: fc.constantFrom("gateway", "nas", "nodes", "nohost", "toString") }),
  fc.record({
    cidr: fc.constantFrom(
      "0.0.0.0/0",
      "0.0.0.0/1",
      "128.0.0.0/1",
      "10.0.0.5/8",
      "8.8.8.8/32",
      "1.2.3.4",
    ),
  }),
  fc.constant(42),
);
const cidrList = fc.subarray(
  [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "10.0.0.0/9",
    "172.16.0.0/13",
    "bad",
    "10.0.0.1/8",
  ],
  { minLength: 0 },
);

/** Flow ends and ports that validate: these mutations reach the allowed-set check. */
const validEnd = fc.oneof(
  fc.constantFrom(...namespaceNames.filter((n) => n !== "kube-system"), "internet"),
  fc.record({
    namespace: fc.constantFrom(...namespaceNames),
    podLabels: fc.constantFrom(
      { app: "web" },
      { "app.kubernetes.io/name": "grafana" },
      { "k8s-app": "kube-dns" },
    ),
  }),
  fc.record({ host: fc.constantFrom("gateway", "nas", "nodes") }),
  fc.record({ cidr: fc.constantFrom("8.8.8.8/32", "10.0.0.0/8", "0.0.0.0/1") }),
);
const VALID_PORTS = [
  443,
  8080,
  "53/UDP",
  "9000-9010/TCP",
  { port: 7000, endPort: 7100, protocol: "SCTP" },
  "1-32767",
];

type Mutation = { readonly what: string; readonly apply: (raw: RawConfig) => void };
/** fast-check prints a counterexample by this method: the description says what was mutated. */
const described = <T extends { what: string }>(m: T): T => ({
  ...m,
  [fc.toStringMethod]: () => m.what,
});

const configMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), portList).map(([i, ports]) => ({
    what: `flows[${i}].ports = ${JSON.stringify(ports)}`,
    apply: (raw: RawConfig) => (raw.flows[i % raw.flows.length].ports = ports),
  })),
  fc.tuple(fc.nat(), fc.constantFrom("from", "to"), endpoint).map(([i, end, value]) => ({
    what: `flows[${i}].${end} = ${JSON.stringify(value)}`,
    apply: (raw: RawConfig) => (raw.flows[i % raw.flows.length][end] = value),
  })),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom("metricsPorts", "intraNamespace", "externalEgress", "webhookPorts"),
      portList,
    )
    .map(([i, key, ports]) => ({
      what: `namespaces[${i}].${key} = ${JSON.stringify(ports)}`,
      apply: (raw: RawConfig) => (raw.namespaces[i % raw.namespaces.length][key] = ports),
    })),
  fc
    .tuple(fc.nat(), fc.constantFrom("meshed", "kubeApi"), fc.constantFrom(true, false, "yes"))
    .map(([i, key, value]) => ({
      what: `namespaces[${i}].${key} = ${JSON.stringify(value)}`,
      apply: (raw: RawConfig) => (raw.namespaces[i % raw.namespaces.length][key] = value),
    })),
  fc
    .tuple(fc.nat(), fc.constantFrom("gateway", "nas", "nodes", "nohost"), portList)
    .map(([i, host, ports]) => ({
      what: `namespaces[${i}].lanEgress = ${JSON.stringify([{ host, ports }])}`,
      apply: (raw: RawConfig) =>
        (raw.namespaces[i % raw.namespaces.length].lanEgress = [{ host, ports }]),
    })),
  fc.nat().map((i) => ({
    what: `remove namespaces[${i}]`,
    apply: (raw: RawConfig) => raw.namespaces.splice(i % raw.namespaces.length, 1),
  })),
  fc
    .tuple(
      fc.constantFrom(...namespaceNames),
      fc.constantFrom(...namespaceNames, "internet"),
      portList,
    )
    .map(([from, to, ports]) => ({
      what: `add a flow ${JSON.stringify({ from, to, ports })}`,
      apply: (raw: RawConfig) =>
        raw.flows.push({ name: `extra-${raw.flows.length}`, from, to, ports, reason: "added" }),
    })),
  fc
    .tuple(validEnd, validEnd, fc.subarray(VALID_PORTS, { minLength: 1, maxLength: 3 }))
    .map(([from, to, ports]) => ({
      what: `add a well-formed flow ${JSON.stringify({ from, to, ports })}`,
      apply: (raw: RawConfig) =>
        raw.flows.push({ name: `valid-${raw.flows.length}`, from, to, ports, reason: "added" }),
    })),
  cidrList.map((ranges) => ({
    what: `privateRanges = ${JSON.stringify(ranges)}`,
    apply: (raw: RawConfig) => (raw.cluster.privateRanges = ranges),
  })),
  fc
    .constantFrom<unknown>("none", ["gateway"], [], ["gatewy"], ["0.0.0.0/0"], undefined, "gateway")
    .map((upstream) => ({
      what: `dns.upstream = ${JSON.stringify(upstream)}`,
      apply: (raw: RawConfig) => (raw.cluster.dns.upstream = upstream),
    })),
  fc.constantFrom<unknown>(undefined, "default", "loki", "nope", "internet").map((value) => ({
    what: `monitoringNamespace = ${JSON.stringify(value)}`,
    apply: (raw: RawConfig) => (raw.cluster.monitoringNamespace = value),
  })),
  fc.constantFrom("internet", "control-plane", "router", "Bad_Host").map((name) => ({
    what: `lanHosts.${name}`,
    apply: (raw: RawConfig) => (raw.cluster.lanHosts[name] = "10.0.1.7"),
  })),
  fc.constantFrom("flow", "namespace", "clusters").map((key) => ({
    what: "unknown top-level key",
    apply: (raw: RawConfig) => (raw[key] = []),
  })),
);

/** Edits a user would make on purpose: these should mostly be accepted and reach the engine. */
const wellFormedMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .tuple(validEnd, validEnd, fc.subarray(VALID_PORTS, { minLength: 1, maxLength: 3 }))
    .filter(
      ([from, to]) =>
        typeof from !== "string" || typeof to !== "string" || from !== to || from !== "internet",
    )
    .map(([from, to, ports]) => ({
      what: `add a well-formed flow ${JSON.stringify({ from, to, ports })}`,
      apply: (raw: RawConfig) =>
        raw.flows.push({ name: `valid-${raw.flows.length}`, from, to, ports, reason: "added" }),
    })),
  fc
    .tuple(fc.constantFrom(...namespaceNames.filter((n) => n !== "istio-system")), fc.boolean())
    .map(([name, meshed]) => ({
      what: `meshed ${meshed}`,
      apply: (raw: RawConfig) => (nsNamed(raw, name).meshed = meshed),
    })),
  fc.constantFrom<unknown>("none", ["gateway", "8.8.8.8"]).map((upstream) => ({
    what: `dns.upstream = ${JSON.stringify(upstream)}`,
    apply: (raw: RawConfig) => (raw.cluster.dns.upstream = upstream),
  })),
  fc.constant({
    what: "no monitoring",
    apply: (raw: RawConfig) => {
      delete raw.cluster.monitoringNamespace;
      for (const ns of raw.namespaces) delete ns.metricsPorts;
    },
  }),
  fc.constant({
    what: "privateRanges in pieces",
    apply: (raw: RawConfig) =>
      (raw.cluster.privateRanges = [
        "10.0.0.0/9",
        "10.128.0.0/9",
        "172.16.0.0/12",
        "192.168.0.0/17",
        "192.168.128.0/17",
      ]),
  }),
  fc
    .tuple(
      fc.constantFrom(...namespaceNames),
      fc.subarray(VALID_PORTS, { minLength: 1, maxLength: 2 }),
    )
    .map(([name, ports]) => ({
      what: "intraNamespace",
      apply: (raw: RawConfig) => (nsNamed(raw, name).intraNamespace = ports),
    })),
);

const nsNamed = (raw: RawConfig, name: string): RawConfig =>
  raw.namespaces.find((n: { name: string }) => n.name === name);

// ---------- manifest mutations ----------

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const PEERS: Json[] = [
  { namespaceSelector: {} },
  { podSelector: {} },
  { ipBlock: { cidr: "0.0.0.0/0" } },
  { ipBlock: { cidr: "0.0.0.0/1" } },
  { ipBlock: { cidr: "10.0.0.0/8" } },
  { namespaceSelector: { matchLabels: { name: "velero" } } },
  { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "falco" } } },
  { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } },
];

type Edit = { readonly what: string; readonly apply: (spec: Json) => void };
const rulesOf = (spec: Json): Json[] => [...(spec.ingress ?? []), ...(spec.egress ?? [])];
const pick = <T>(list: readonly T[], i: number): T | undefined =>
  list.length ? list[i % list.length] : undefined;

const specEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc
    .tuple(
      fc.nat(),
      fc.integer({ min: 1, max: 65535 }),
      fc.option(fc.integer({ min: 1, max: 65535 })),
    )
    .map(([i, port, end]) => ({
      what: "change a port",
      apply: (spec: Json) => {
        const rule = pick(
          rulesOf(spec).filter((r) => r.ports?.length),
          i,
        );
        if (rule)
          rule.ports[0] =
            end && end > port ? { protocol: "TCP", port, endPort: end } : { protocol: "TCP", port };
      },
    })),
  fc.nat().map((i) => ({
    what: "drop a rule's ports",
    apply: (spec: Json) => {
      const rule = pick(rulesOf(spec), i);
      if (rule) delete rule.ports;
    },
  })),
  fc.tuple(fc.nat(), fc.constantFrom(...PEERS)).map(([i, peer]) => ({
    what: `add peer ${JSON.stringify(peer)}`,
    apply: (spec: Json) => {
      const rule = pick(rulesOf(spec), i);
      if (rule) (rule.from ?? rule.to).push(structuredClone(peer));
    },
  })),
  fc.constant({
    what: "drop every except",
    apply: (spec: Json) => {
      for (const rule of rulesOf(spec))
        for (const peer of rule.from ?? rule.to ?? []) delete peer.ipBlock?.except;
    },
  }),
  fc.tuple(fc.nat(), fc.constantFrom("ingress", "egress")).map(([i, direction]) => ({
    what: `delete an ${direction} rule`,
    apply: (spec: Json) => {
      if (spec[direction]?.length) spec[direction].splice(i % spec[direction].length, 1);
    },
  })),
  fc.constant({ what: "drop policyTypes", apply: (spec: Json) => delete spec.policyTypes }),
  fc.constant({
    what: "narrow the pod selector",
    apply: (spec: Json) => (spec.podSelector = { matchLabels: { app: "other" } }),
  }),
  fc.constant({
    what: "lowercase protocols",
    apply: (spec: Json) => {
      for (const rule of rulesOf(spec))
        for (const p of rule.ports ?? []) p.protocol = p.protocol?.toLowerCase();
    },
  }),
  fc.constant({
    what: "ports as strings",
    apply: (spec: Json) => {
      for (const rule of rulesOf(spec))
        for (const p of rule.ports ?? []) if (p.port) p.port = String(p.port);
    },
  }),
  fc.constant({
    what: "an except outside its cidr",
    apply: (spec: Json) => {
      for (const rule of rulesOf(spec))
        for (const peer of rule.from ?? rule.to ?? [])
          if (peer.ipBlock) peer.ipBlock.except = ["192.0.2.0/24"];
    },
  }),
  fc.constantFrom("0.0.0.0/1", "128.0.0.0/1", "8.0.0.0/8").map((cidr) => ({
    what: `widen ipBlocks to ${cidr}`,
    apply: (spec: Json) => {
      for (const rule of rulesOf(spec))
        for (const peer of rule.from ?? rule.to ?? []) if (peer.ipBlock) peer.ipBlock = { cidr };
    },
  })),
  fc.constantFrom("ingress", "egress").map((direction) => ({
    what: `an empty ${direction} rule (allow all)`,
    apply: (spec: Json) => (spec[direction] = [...(spec[direction] ?? []), {}]),
  })),
);

const manifestMutation = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(fc.nat(), specEdit)
      .map(([i, edit]) => ({ kind: "edit" as const, i, edit })),
  },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: "remove" as const, i })) },
);

describe("property: mutations end in a located error, a declared allowed set, or a named violation", function () {
  this.timeout(240_000);
  const configOutcomes = new Map<string, number>();
  const manifestOutcomes = new Map<string, number>();

  after(() => {
    const line = (m: Map<string, number>) =>
      [...m]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
    console.log(
      `      config mutations (${CONFIG_RUNS} random + ${WELL_FORMED_RUNS} well-formed + 4 namespace typos): ${line(configOutcomes)}`,
    );
    console.log(`      manifest mutations (${MANIFEST_RUNS}): ${line(manifestOutcomes)}`);
  });

  /** Applies `mutations` to the homelab config and checks the outcome is one of the two allowed. */
  function judgeConfig(mutations: readonly Mutation[]): void {
    const raw = structuredClone(homelabRaw);
    for (const m of mutations) m.apply(raw);
    let config: StackConfig;
    try {
      config = validateStackConfig(raw);
    } catch (error) {
      assert.ok(error instanceof ConfigError, `not a config error: ${String(error)}`);
      for (const problem of error.problems) assert.match(problem, LOCATED);
      tally(configOutcomes, "located error");
      return;
    }
    assertZeroTrustIntent(config);
    const manifests = renderManifests(config);
    const excess = undeclaredAllows(config, manifests);
    // The pack's intent check (declared-connectivity) on the same rendering: a finding there is a
    // pack violation, and it must name the namespaces of what the oracle found undeclared.
    const findings = checkIntent(config, manifests);
    if (findings.length > 0) {
      const text = findings.map((f) => f.message).join("\n");
      for (const e of excess)
        assert.ok(
          text.includes(namedAs(e)),
          `the intent check does not name ${e.from} -> ${e.to}:\n${text}`,
        );
      tally(configOutcomes, "accepted, the pack's intent check names the difference");
      return;
    }
    assert.equal(
      excess.length,
      0,
      `accepted, but allows more than declared:\n${describeExcess(excess)}`,
    );
    tally(configOutcomes, "accepted, allowed set inside the declared set");
  }

  it("of the homelab config", () => {
    fc.assert(
      fc.property(
        fc.array(configMutation.map(described), { minLength: 1, maxLength: 3 }),
        judgeConfig,
      ),
      {
        numRuns: CONFIG_RUNS,
        seed: SEED,
      },
    );
    assert.ok((configOutcomes.get("located error") ?? 0) > 0);
  });

  it("of the homelab config, well-formed edits only", () => {
    const before = configOutcomes.get("accepted, allowed set inside the declared set") ?? 0;
    fc.assert(
      fc.property(
        fc.array(wellFormedMutation.map(described), { minLength: 1, maxLength: 4 }),
        judgeConfig,
      ),
      { numRuns: WELL_FORMED_RUNS, seed: SEED },
    );
    const accepted =
      (configOutcomes.get("accepted, allowed set inside the declared set") ?? 0) - before;
    assert.ok(
      accepted > WELL_FORMED_RUNS / 2,
      `only ${accepted} well-formed edits were accepted: ${JSON.stringify([...configOutcomes])}`,
    );
  });

  it("of the config namespace", () => {
    for (const key of ["zt-netpo:flows", "zt_netpol:flows", "zt-netpol:flow", "ztnetpol:cluster"]) {
      const flat = { ...homelabFlat, [key]: homelabFlat["zt-netpol:flows"] };
      delete flat["zt-netpol:flows"];
      assert.throws(
        () => validateStackConfig(rawConfigFromFlat(flat)),
        (error: unknown) =>
          error instanceof ConfigError && error.problems.every((p) => LOCATED.test(p)),
      );
      tally(configOutcomes, "located error");
    }
  });

  it("of the rendered homelab manifests", async () => {
    const rendered = await renderStack("homelab");
    const resources = asPolicyEngineSees(rendered.resources);
    const packConfig: PackConfig = packConfigFromFacts(factsFromStackConfig(rendered.config));
    const policyIndexes = resources.flatMap((r, i) => (r.type === NETWORK_POLICY ? [i] : []));
    fc.assert(
      fc.property(manifestMutation, (mutation) => {
        const copy: CapturedResource[] = resources.map((r) => ({
          ...r,
          props: structuredClone(r.props),
        }));
        const index = policyIndexes[mutation.i % policyIndexes.length];
        const target = copy[index];
        const metadata = target.props.metadata as { name: string; namespace: string };
        if (mutation.kind === "remove") copy.splice(index, 1);
        else mutation.edit.apply(target.props.spec as Json);
        const mandatory = evaluateResources(copy, packConfig).filter(
          (v) => v.enforcementLevel === "mandatory",
        );
        if (mandatory.length > 0) {
          const named = mandatory.some(
            (v) =>
              v.resourceName === target.name ||
              v.message.includes(metadata.name) ||
              v.message.includes(metadata.namespace),
          );
          assert.ok(
            named,
            `violations do not name ${metadata.namespace}/${metadata.name}:\n${mandatory.map((v) => v.message).join("\n")}`,
          );
          for (const policy of new Set(mandatory.map((v) => v.policyName)))
            tally(manifestOutcomes, `caught by ${policy}`);
          tally(manifestOutcomes, "named violation");
          return;
        }
        const manifests = copy.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.props);
        const excess = undeclaredAllows(rendered.config, manifests);
        assert.equal(
          excess.length,
          0,
          `${mutation.kind === "edit" ? mutation.edit.what : "remove"} on ${metadata.namespace}/${metadata.name} passes the pack but allows more than declared:\n${describeExcess(excess)}`,
        );
        tally(manifestOutcomes, "passes, allowed set inside the declared set");
      }),
      { numRuns: MANIFEST_RUNS, seed: SEED },
    );
  });
});
