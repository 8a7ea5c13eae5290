/**
 * Staged objects are judged by the same rules as the objects they stage: the pack sees each
 * Calico staged kind as the enforced object its promotion creates (same metadata, the spec minus
 * `stagedAction`, the enforced kind's Pulumi type), so every rule and the declared-connectivity
 * check judge what promotion would enforce. The staged object is read once, by the engine
 * (`readPolicy`, which validates it as Calico does: an unknown field, a non-empty `Delete`, a
 * `Learn`/`Ignore` action are located errors); its promoted reading is what the rules then see.
 * Only `stagedAction: Set` (the default) is judged: `Delete` removes a policy rather than being
 * one. Sources: projectcalico/calico `api/pkg/apis/projectcalico/v3/staged*.go`
 * (`ConvertStaged*ToEnforced`).
 */
import { promotedPolicy } from "../../engine";
import { MalformedError } from "./errors";
import { isObject } from "./read";
import {
  CALICO_GLOBAL_NETWORK_POLICY_TYPE,
  CALICO_NETWORK_POLICY_TYPE,
  K8S_NETWORK_POLICY_TYPE,
  readPolicy,
  rememberReading,
  STAGED_CALICO_GLOBAL_NETWORK_POLICY_TYPE,
  STAGED_CALICO_NETWORK_POLICY_TYPE,
  STAGED_K8S_NETWORK_POLICY_TYPE,
} from "./reading";

interface StagedType {
  readonly enforcedType: string;
  readonly apiVersion: string;
  readonly kind: string;
}

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
 * @throws ManifestError for what the engine rejects, MalformedError for a stagedAction other
 *   than Set.
 */
export function asEnforcedSubject<T extends { type: string; props: Record<string, unknown> }>(
  subject: T,
): T {
  const staged = STAGED_TYPES[subject.type];
  if (!staged) return subject;
  const policy = readPolicy(subject.type, subject.props);
  if (policy.staged?.action !== "Set")
    throw new MalformedError(
      "spec.stagedAction",
      `only Set is judged (got ${JSON.stringify(policy.staged?.action)}): promote or remove it by hand`,
    );
  // The engine accepted the object, so its spec is an object.
  const { stagedAction: _stagedAction, ...enforcedSpec } = isObject(subject.props.spec)
    ? subject.props.spec
    : {};
  void _stagedAction;
  const props = {
    ...subject.props,
    apiVersion: staged.apiVersion,
    kind: staged.kind,
    spec: enforcedSpec,
  };
  rememberReading(props, promotedPolicy(policy));
  return { ...subject, type: staged.enforcedType, props };
}
