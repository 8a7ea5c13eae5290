/** Pure rendering of Calico projectcalico.org/v3 NetworkPolicies from stack config. */
import type { CalicoPolicyConfig, CalicoRuleConfig } from "../config/types";
import { MANAGED_BY_LABELS } from "./rules";

export const CALICO_API_VERSION = "projectcalico.org/v3";

export interface CalicoRule {
  action: CalicoRuleConfig["action"];
  protocol?: string;
  source?: { nets: string[]; ports?: number[] };
  destination?: { nets: string[]; ports?: number[] };
}

export interface CalicoPolicySpec {
  selector: string;
  order?: number;
  types: ("Ingress" | "Egress")[];
  ingress?: CalicoRule[];
  egress?: CalicoRule[];
}

export interface CalicoPolicyManifest {
  apiVersion: typeof CALICO_API_VERSION;
  kind: "NetworkPolicy";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: CalicoPolicySpec;
}

function renderRule(rule: CalicoRuleConfig, side: "source" | "destination"): CalicoRule {
  const target = { nets: [...rule.nets], ...(rule.ports ? { ports: [...rule.ports] } : {}) };
  return {
    action: rule.action,
    ...(rule.protocol ? { protocol: rule.protocol } : {}),
    [side]: target,
  };
}

/** Ingress rules constrain the source, egress rules the destination. */
export function renderCalicoSpec(policy: CalicoPolicyConfig): CalicoPolicySpec {
  const spec: CalicoPolicySpec = { selector: policy.selector, types: [...policy.types] };
  if (policy.order !== undefined) spec.order = policy.order;
  if (policy.ingress.length > 0) spec.ingress = policy.ingress.map((r) => renderRule(r, "source"));
  if (policy.egress.length > 0)
    spec.egress = policy.egress.map((r) => renderRule(r, "destination"));
  return spec;
}

export function renderCalicoPolicy(
  namespace: string,
  policy: CalicoPolicyConfig,
): CalicoPolicyManifest {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "NetworkPolicy",
    metadata: { name: policy.name, namespace, labels: { ...MANAGED_BY_LABELS } },
    spec: renderCalicoSpec(policy),
  };
}
