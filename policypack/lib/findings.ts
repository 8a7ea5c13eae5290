/** Small constructors shared by the NetworkPolicy policies, so messages read the same way. */
import type { NetworkPolicyModel } from "./netpol";
import type { Finding } from "./policy";

/** A finding about one field of a Kubernetes NetworkPolicy. */
export function netpolFinding(
  policy: NetworkPolicyModel,
  path: string,
  problem: string,
  fix: string,
): Finding {
  return {
    message: `NetworkPolicy ${policy.namespace}/${policy.name} ${path}: ${problem}`,
    fix,
    namespace: policy.namespace,
    objectName: policy.name,
  };
}

export const NAME_LABEL_EXAMPLE = (ns: string): string =>
  `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${ns}}}`;
