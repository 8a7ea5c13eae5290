/** The explanation line for gate 3, ztunnel authorization at a meshed destination. */
import type { ModelProtocol } from "../model/connections";
import { formatRef } from "../model/problems";
import type { Endpoint } from "../model/types";
import { describeEndpoint } from "../evaluate/evaluator";
import type { ZtunnelDecision, ZtunnelGate } from "../evaluate/ztunnel";

const WHAT = "Ztunnel authorization at the destination";

export function ztunnelLine(
  gate: ZtunnelGate,
  source: Endpoint,
  destination: Endpoint,
  protocol: ModelProtocol,
  port: number,
  decision: ZtunnelDecision | undefined,
): string | undefined {
  if (destination.kind !== "pod" || !destination.pod.meshed || !gate.model.options.mesh)
    return undefined;
  const local = describeEndpoint(destination);
  if (gate.isProbe(source))
    return `${WHAT} (${local}): bypassed - istio-cni does not redirect traffic from the probe source into ztunnel.`;
  if (protocol !== "TCP")
    return `${WHAT} (${local}): not applied - ztunnel captures TCP only, ${protocol} reaches the pod directly.`;
  if (!decision) return undefined;
  const peer = gate.peer(source).identity;
  const who = peer ? `identity ${peer.principal}` : "no identity (plaintext)";
  const head = `${WHAT} (${local}, TCP ${port}, source ${who})`;
  const reason = decision.reason!;
  let line: string;
  switch (reason.kind) {
    case "strict-mtls":
      line = `${head}: denied - mTLS is STRICT${reason.by ? ` (${formatRef(reason.by)})` : ""}, and a plaintext connection has no peer identity.`;
      break;
    case "deny-policy":
      line = `${head}: denied by ${formatRef(reason.policy.ref)} ${reason.rule.path} (action DENY; DENY policies are checked first).`;
      if (reason.rule.ignoredFields.length > 0)
        line += ` istiod enforces it without ${reason.rule.ignoredFields.join(", ")} (L7 fields ztunnel cannot see).`;
      break;
    case "allow-policy":
      line = `${head}: allowed by ${formatRef(reason.policy.ref)} ${reason.rule.path} (action ALLOW).`;
      break;
    case "no-allow-policy":
      line = `${head}: allowed - no ALLOW policy applies to the pod and no DENY policy matches.`;
      break;
    case "no-allow-match":
      line = `${head}: denied - ALLOW policies apply (${reason.policies.map(formatRef).join(", ")}) but no rule matches (an ALLOW policy denies everything else).`;
      break;
  }
  if (decision.droppedRules.length > 0)
    line += ` Dropped by istiod (L7 attributes in ALLOW rules): ${decision.droppedRules.join("; ")}.`;
  return line;
}
