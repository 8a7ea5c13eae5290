/** Small constructors shared by the policies, so messages read the same way. */
import type { NormalPolicy } from "../../engine";
import type { Finding } from "./policy";

/** `NetworkPolicy ns/name`, `Calico NetworkPolicy ns/name`, `Calico GlobalNetworkPolicy name`. */
export function describePolicy(policy: NormalPolicy): string {
  const ref = policy.namespace ? `${policy.namespace}/${policy.ref.name}` : policy.ref.name;
  const kind =
    policy.ref.kind === "NetworkPolicy"
      ? "NetworkPolicy"
      : `Calico ${policy.ref.kind.replace("projectcalico.org/", "")}`;
  return `${kind} ${ref}`;
}

/** A finding about one field of a policy object. */
export function policyFinding(
  policy: NormalPolicy,
  path: string,
  problem: string,
  fix: string,
): Finding {
  return {
    message: `${describePolicy(policy)} ${path}: ${problem}`,
    fix,
    namespace: policy.namespace,
    objectName: policy.ref.name,
  };
}

export const NAME_LABEL_EXAMPLE = (ns: string): string =>
  `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${ns}}}`;
