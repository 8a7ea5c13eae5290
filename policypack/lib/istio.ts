/** Pulumi resource types of the Istio objects the pack reads (CustomResources of security.istio.io). */
export const ISTIO_AUTHORIZATION_POLICY_TYPE =
  "kubernetes:security.istio.io/v1:AuthorizationPolicy";
export const ISTIO_PEER_AUTHENTICATION_TYPE = "kubernetes:security.istio.io/v1:PeerAuthentication";
const ISTIO_VERSIONS = ["v1", "v1beta1"];
/** Every version the API server serves, so a hand-written v1beta1 object is judged too. */
export const ISTIO_GATE_TYPES = ISTIO_VERSIONS.flatMap((v) => [
  `kubernetes:security.istio.io/${v}:AuthorizationPolicy`,
  `kubernetes:security.istio.io/${v}:PeerAuthentication`,
]);
export const ISTIO_AUTHORIZATION_POLICY_TYPES = ISTIO_GATE_TYPES.filter((t) =>
  t.endsWith(":AuthorizationPolicy"),
);
