/**
 * Staged objects are judged by the same rules as the objects they stage: the pack sees each
 * Calico staged kind as the enforced object its promotion creates (same metadata, the spec minus
 * `stagedAction`, the enforced kind's Pulumi type), so every rule and the declared-connectivity
 * check judge what promotion would enforce. Only `stagedAction: Set` (the default) is judged:
 * `Delete` removes a policy rather than being one, and `Learn`/`Ignore` have no documented
 * effect, so those are "cannot verify". Sources: projectcalico/calico
 * `api/pkg/apis/projectcalico/v3/staged*.go` (`ConvertStaged*ToEnforced`).
 */
import { CALICO_GLOBAL_NETWORK_POLICY_TYPE, CALICO_NETWORK_POLICY_TYPE } from "./calico";
import { MalformedError } from "./errors";
import { K8S_NETWORK_POLICY_TYPE } from "./netpol";
import { isObject } from "./read";

interface StagedType {
  readonly enforcedType: string;
  readonly apiVersion: string;
  readonly kind: string;
}

export const STAGED_K8S_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:StagedKubernetesNetworkPolicy";
export const STAGED_CALICO_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:StagedNetworkPolicy";
export const STAGED_CALICO_GLOBAL_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:StagedGlobalNetworkPolicy";

const STAGED_TYPES: Readonly<Record<string, StagedType>> = {
  [STAGED_K8S_NETWORK_POLICY_TYPE]: {
    enforcedType: K8S_NETWORK_POLICY_TYPE,
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
  },
  [STAGED_CALICO_NETWORK_POLICY_TYPE]: {
    enforcedType: CALICO_NETWORK_POLICY_TYPE,
    apiVersion: "projectcalico.org/v3",
    kind: "NetworkPolicy",
  },
  [STAGED_CALICO_GLOBAL_NETWORK_POLICY_TYPE]: {
    enforcedType: CALICO_GLOBAL_NETWORK_POLICY_TYPE,
    apiVersion: "projectcalico.org/v3",
    kind: "GlobalNetworkPolicy",
  },
};

/** The Pulumi type of a staged manifest kind, for `npm run check`. */
export function stagedPulumiTypeOf(kind: string): string | undefined {
  const type = `kubernetes:projectcalico.org/v3:${kind}`;
  return type in STAGED_TYPES ? type : undefined;
}

/** The type a resource is judged as: a staged type's enforced type, else the type itself. */
export function judgedTypeOf(type: string): string {
  return STAGED_TYPES[type]?.enforcedType ?? type;
}

/**
 * The subject as the rules judge it: a staged object becomes the enforced object its promotion
 * creates; everything else is returned unchanged.
 * @throws MalformedError for a stagedAction other than Set.
 */
export function asEnforcedSubject<T extends { type: string; props: Record<string, unknown> }>(
  subject: T,
): T {
  const staged = STAGED_TYPES[subject.type];
  if (!staged) return subject;
  const spec = isObject(subject.props.spec) ? subject.props.spec : undefined;
  if (!spec) throw new MalformedError("spec", "expected an object");
  const { stagedAction, ...enforcedSpec } = spec;
  if (stagedAction !== undefined && stagedAction !== "Set")
    throw new MalformedError(
      "spec.stagedAction",
      `only Set is judged (got ${JSON.stringify(stagedAction)}): promote or remove it by hand`,
    );
  return {
    ...subject,
    type: staged.enforcedType,
    props: {
      ...subject.props,
      apiVersion: staged.apiVersion,
      kind: staged.kind,
      spec: enforcedSpec,
    },
  };
}
