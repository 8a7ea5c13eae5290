/**
 * projectcalico.org/v3 NetworkSet (namespaced) and GlobalNetworkSet → NetworkSetInfo.
 *
 * A network set is a labelled list of address ranges. When Felix computes the addresses a rule's
 * `selector` (or `notSelector`) stands for, it adds the nets of every network set whose labels the
 * selector matches, beside the addresses of matching workload endpoints
 * (https://docs.tigera.io/calico/latest/reference/resources/networkset and
 * .../globalnetworkset). Which sets a selector can see follows from the labels libcalico-go gives
 * them (updateprocessors/networksetprocessor.go, globalnetworksetprocessor.go): a NetworkSet gets
 * `projectcalico.org/namespace: <its namespace>` and inherits its namespace's profile (the
 * `pcns.`-prefixed namespace labels), a GlobalNetworkSet keeps only its own labels; the rule
 * scoping itself is in ./matchers.ts (calicoEntity).
 *
 * Spec fields, per Calico Open Source 3.30-3.32 (`NetworkSetSpec`, `GlobalNetworkSetSpec` in
 * projectcalico/calico api/pkg/apis/projectcalico/v3, release-v3.30 to release-v3.32): `nets`
 * only, each a CIDR or a bare address (validator `cidr`: ParseCIDROrIP). `allowedEgressDomains`
 * exists only in Calico Enterprise and Calico Cloud; it is refused with its location rather than
 * read as addresses it does not name. The validator refuses the label
 * `projectcalico.org/namespace` on either kind (validateNetworkSet, validateGlobalNetworkSet).
 */
import { formatRangeAsCidr, isIpv6Text, parseCidr, parseIpv6Cidr } from "../model/ipv4";
import type { Ipv4Range } from "../model/ipv4";
import type { Labels } from "../model/label-selector";
import type { ObjectRef, ProblemSink } from "../model/problems";
import type { NetworkSetInfo } from "../model/types";
import { isObject, type Raw } from "./raw";

const CALICO_NAMESPACE_LABEL = "projectcalico.org/namespace";
const NAMESPACE_PROFILE_PREFIX = "pcns.";

export const NETWORK_SET_KINDS = new Set(["NetworkSet", "GlobalNetworkSet"]);

/** What buildModel knows of the set's namespace (a GlobalNetworkSet has none). */
export interface NetworkSetNamespace {
  readonly name: string;
  /** The namespace's labels as Calico sees them (with projectcalico.org/name). */
  readonly calicoLabels: Labels;
}

/**
 * Reads one set. `labels` are its `metadata.labels`, already validated by the caller.
 * Problems are reported at the set's own field paths; returns undefined when any was found.
 */
export function normaliseNetworkSet(
  obj: Raw,
  ref: ObjectRef,
  labels: Labels,
  namespace: NetworkSetNamespace | undefined,
  sink: ProblemSink,
  source?: string,
): NetworkSetInfo | undefined {
  const kind = ref.kind === "GlobalNetworkSet" ? "GlobalNetworkSet" : "NetworkSet";
  let failed = false;
  const fail = (path: string, message: string): void => {
    failed = true;
    sink.report(ref, path, message, source);
  };
  if (CALICO_NAMESPACE_LABEL in labels)
    fail(
      `metadata.labels.${CALICO_NAMESPACE_LABEL}`,
      "is reserved: Calico sets it itself and refuses it on a network set",
    );
  const spec = obj.spec;
  const nets: Ipv4Range[] = [];
  if (spec !== undefined && spec !== null && !isObject(spec)) fail("spec", "must be an object");
  if (isObject(spec)) {
    for (const key of Object.keys(spec)) {
      if (key === "nets") continue;
      if (key === "allowedEgressDomains")
        fail(
          `spec.${key}`,
          "is Calico Enterprise only (Calico Open Source 3.30-3.32 network sets have spec.nets only); domain sets are not modelled",
        );
      else fail(`spec.${key}`, `unknown field (${kind} spec has only nets)`);
    }
    const raw = spec.nets;
    if (raw !== undefined && raw !== null && !Array.isArray(raw))
      fail("spec.nets", "must be a list of CIDRs");
    if (Array.isArray(raw))
      raw.forEach((item: unknown, i) => {
        const at = `spec.nets[${i}]`;
        if (typeof item === "string" && isIpv6Text(item)) {
          if (parseIpv6Cidr(item) === undefined) fail(at, `invalid CIDR ${JSON.stringify(item)}`);
          else sink.warn(ref, at, `IPv6 net ${item} ignored (IPv4 model)`);
          return;
        }
        const parsed = typeof item === "string" ? parseCidr(item) : undefined;
        if (parsed === undefined) fail(at, `invalid CIDR ${JSON.stringify(item)}`);
        else nets.push(parsed);
      });
  }
  if (failed) return undefined;
  const calicoLabels: Labels = namespace
    ? {
        ...Object.fromEntries(
          Object.entries(namespace.calicoLabels).map(([k, v]) => [NAMESPACE_PROFILE_PREFIX + k, v]),
        ),
        ...labels,
        [CALICO_NAMESPACE_LABEL]: namespace.name,
      }
    : labels;
  const name = namespace ? `${namespace.name}/${ref.name}` : ref.name;
  const cidrs = nets.length > 0 ? nets.map(formatRangeAsCidr).join(", ") : "no IPv4 nets";
  return {
    ref: { kind, namespace: namespace?.name, name: ref.name },
    namespace: namespace?.name,
    name: ref.name,
    calicoLabels,
    namespaceLabels: namespace?.calicoLabels,
    nets,
    label: `${kind.toLowerCase()} ${name} (${cidrs})`,
    ...(source !== undefined ? { source } : {}),
  };
}
