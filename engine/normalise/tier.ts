/**
 * Calico `Tier` objects (projectcalico.org/v3) → NormalTier, and the tier a policy names.
 *
 * Sources (read, not copied), projectcalico/calico at v3.31.7 unless said otherwise:
 * - `api/pkg/apis/projectcalico/v3/tier.go`: `spec.order` (optional float; absent = applied
 *   last, ties by name) and `spec.defaultAction` (`Deny` default, or `Pass`; present since
 *   v3.29), `DefaultTierOrder` = 1,000,000 (since v3.29);
 * - `libcalico-go/lib/validator/v3/validator.go` `validateTier`: the name is one DNS-1123 label
 *   (no dot, at most 63 characters), and the `default` tier's order must be 1,000,000;
 *   v3.32's CRD adds that the default tier's `defaultAction` must be `Deny`;
 * - `libcalico-go/lib/clientv3/client.go` `EnsureInitialized`: the default tier always exists
 *   (Deny, 1,000,000); `clientv3/networkpolicy.go` refuses a policy whose tier does not exist;
 * - `libcalico-go/lib/names/policy.go` `ValidateTieredPolicyName` (v3.30-v3.31, called by clientv3
 *   for NetworkPolicy, GlobalNetworkPolicy and their staged kinds): a policy of tier T other
 *   than `default` must be named `T.<name>`; a default-tier name is either dot-free or
 *   `default.<name>`. Felix 3.31 even takes the tier from the name (`TierFromPolicyName` in the
 *   syncer's update processors). v3.32 dropped the rule; this engine follows 3.31 (the version the
 *   homelab runs) and refuses such names, since 3.31 never applies them.
 */
import type { ObjectRef, ProblemSink } from "../model/problems";
import type { NormalTier, TierDefaultAction } from "../model/types";
import { isObject, startObject, type Raw } from "./raw";

export const DEFAULT_TIER = "default";
/** `DefaultTierOrder` in Calico's API (v3.29 and later). */
export const DEFAULT_TIER_ORDER = 1_000_000;

/** The default tier as Calico creates it when no Tier object in the input declares it. */
export const BUILT_IN_DEFAULT_TIER: NormalTier = {
  name: DEFAULT_TIER,
  order: DEFAULT_TIER_ORDER,
  defaultAction: "Deny",
  declared: false,
};

const TIER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function normaliseTier(
  obj: Raw,
  ref: ObjectRef,
  sink: ProblemSink,
  source?: string,
): NormalTier | undefined {
  const { fail, failed, spec } = startObject(
    // A Tier without a spec is a Tier with defaults (order nil, Deny).
    isObject(obj.spec) ? obj : { ...obj, spec: {} },
    ref,
    sink,
    source,
  );
  if (!spec) return undefined;
  const name = ref.name;
  if (name.length > 63 || !TIER_NAME.test(name))
    fail(
      "metadata.name",
      "a tier name must be one DNS-1123 label: lower-case letters, digits and '-', no dot, at most 63 characters (Calico validateTier)",
    );
  for (const key of Object.keys(spec))
    if (key !== "order" && key !== "defaultAction") fail(`spec.${key}`, "unknown field");
  let order = Number.POSITIVE_INFINITY;
  if (spec.order !== undefined && spec.order !== null) {
    if (typeof spec.order !== "number" || !Number.isFinite(spec.order))
      fail("spec.order", "must be a number");
    else order = spec.order;
  }
  let defaultAction: TierDefaultAction = "Deny";
  if (spec.defaultAction !== undefined && spec.defaultAction !== null) {
    if (spec.defaultAction === "Deny" || spec.defaultAction === "Pass")
      defaultAction = spec.defaultAction;
    else
      fail(
        "spec.defaultAction",
        `must be Deny or Pass (got ${JSON.stringify(spec.defaultAction)})`,
      );
  }
  if (name === DEFAULT_TIER) {
    if (order !== DEFAULT_TIER_ORDER)
      fail(
        "spec.order",
        `the default tier's order must be ${DEFAULT_TIER_ORDER} (Calico validateTier)`,
      );
    if (defaultAction !== "Deny")
      fail(
        "spec.defaultAction",
        "the default tier's defaultAction must be Deny (Calico 3.32 CRD validation)",
      );
  }
  if (failed()) return undefined;
  return { name, order, defaultAction, declared: true, ...(source ? { source } : {}) };
}

/**
 * The tier named by a Calico policy's `spec.tier` (absent or "" = default), or undefined after
 * reporting a bad value or a name Calico 3.30-3.31 refuses for that tier.
 */
export function readPolicyTier(
  spec: Raw,
  policyName: string,
  fail: (path: string, message: string) => void,
): string | undefined {
  const raw = spec.tier;
  let tier = DEFAULT_TIER;
  if (raw !== undefined && raw !== null && raw !== "") {
    if (typeof raw !== "string" || !TIER_NAME.test(raw) || raw.length > 63) {
      fail("spec.tier", `must be a tier name (got ${JSON.stringify(raw)})`);
      return undefined;
    }
    tier = raw;
  }
  const dot = policyName.indexOf(".");
  if (tier === DEFAULT_TIER) {
    if (dot >= 0 && !policyName.startsWith(`${DEFAULT_TIER}.`)) {
      fail(
        "metadata.name",
        `Calico 3.30-3.31 read the part before the dot as the tier ("${policyName.slice(0, dot)}"), but spec.tier is default: name it without a dot, or set spec.tier: ${policyName.slice(0, dot)}`,
      );
      return undefined;
    }
  } else if (!policyName.startsWith(`${tier}.`) || policyName.length === tier.length + 1) {
    fail(
      "metadata.name",
      `a policy of tier ${tier} must be named ${tier}.<name> (Calico 3.30-3.31 refuse other names): rename it ${tier}.${dot >= 0 ? policyName.slice(dot + 1) : policyName}`,
    );
    return undefined;
  }
  return tier;
}
