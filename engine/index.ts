/**
 * Public API of the connectivity engine: parse → normalise → evaluate → report.
 * Everything other folders may use is exported here; files under engine/ are internal.
 *
 *   const model = buildModel(loadManifestPaths(["manifests/"]), { ipBlockMatchesPods: true });
 *   explainFlow(model, { from: { namespace: "a" }, to: { namespace: "b" }, port: 8080 }).text;
 *   namespaceConnectivity(model);              // intent check: every allowed ns→ns / ns↔external set
 *   renderMatrixMarkdown(model); renderMermaidMarkdown(model); renderHtml(model);
 *   diffModels(oldModel, newModel);
 */
import { computeConnectivity } from "./evaluate/matrix";
import type { ClassConnectivity } from "./evaluate/matrix";
import type { ClusterModel } from "./model/types";
import type { Connection } from "./report/connectivity";
import { namespaceConnections } from "./report/connectivity";
import type { FlowQuery } from "./report/explain";
import { explainFlow } from "./report/explain";

// Calico selectors
export { CalicoSelectorError, parseCalicoSelector } from "./calico/selector";
export type { CalicoSelector } from "./calico/selector";

// Loading and the model
export { parseManifestText, ManifestParseError } from "./load/parse";
export type { SourcedObject, SourceLocation } from "./load/parse";
export {
  InputError,
  loadInputs,
  loadManifestPaths,
  NOT_IN_KUSTOMIZATION,
  STDIN,
} from "./load/files";
export { kustomizationFileIn, readKustomization } from "./load/kustomize";
export type { InputProblem, LoadedInput, LoadOptions, SkippedInput } from "./load/files";
export { closestName, didYouMean, editDistance } from "./load/suggest";
export { buildModel, DEFAULT_POD_CIDR } from "./model/build";
export { ManifestError, formatProblem, formatRef } from "./model/problems";
export {
  alignInventories,
  isRepresentative,
  OTHER_NAMESPACE,
  representativeInventory,
  withPods,
} from "./model/representative";
export type { RepresentativePod } from "./model/representative";
export { peerShape, targetShape } from "./model/shapes";
export type { Problem, ObjectRef } from "./model/problems";
export type {
  ClusterModel,
  EngineOptions,
  MeshOptions,
  NamespaceInfo,
  PodInfo,
  NormalPolicy,
  NetworkSetInfo,
  NormalRule,
  IgnoredObject,
  Endpoint,
  Direction,
  WrittenPeer,
  WrittenPort,
  WrittenRule,
  WrittenPolicy,
  WrittenCalicoRule,
  WrittenCalicoEntity,
  WrittenNet,
  PeerShape,
  TargetShape,
  EndpointMatcher,
  StagedAction,
  StagedKind,
  StagedMarker,
  NormalTier,
  TierDefaultAction,
} from "./model/types";
export type { Labels, LabelSelectorMatcher, LabelRequirement } from "./model/label-selector";

// Istio ambient authorization (gate 3 at meshed destinations)
export type {
  AuthorizationRule as ZtunnelRule,
  NormalAuthorizationPolicy,
  NormalPeerAuthentication,
} from "./normalise/istio-authorization";
export { ZtunnelGate } from "./evaluate/ztunnel";
export type { ZtunnelDecision } from "./evaluate/ztunnel";

// The project's IP library (ipaddr.js underneath): IPv4 as unsigned integers and inclusive
// ranges, IPv6 as bigint ranges
export {
  ALL_IPV4,
  ALL_IPV6,
  NON_PUBLIC_IPV4,
  NON_PUBLIC_IPV6,
  RFC1918_CIDRS,
  formatIpv4,
  formatIpv6,
  formatRangeAsCidr,
  formatIpv6RangeAsCidr,
  ipv6Size,
  mergeIpv6,
  parseIpv4,
  parseIpv6,
  parseCidr as parseCidrRange,
  parseIpv6Cidr,
  parseStrictCidr,
  rangeContains,
  rangesOverlap,
  subtractIpv6,
} from "./model/ipv4";
export type { Ipv4Range, Ipv6Range } from "./model/ipv4";
export * as intervals from "./model/intervals";
export { rangeToCidrs } from "./report/external-groups";

// Integer interval sets (port sets, address sets), for config checks of coverage
export {
  fromRanges as intervalsFromRanges,
  subtract as subtractIntervals,
  toPairs as intervalPairs,
} from "./model/intervals";
export type { IntervalSet } from "./model/intervals";

// Connection sets
export {
  ALL_CONNECTIONS,
  NO_CONNECTIONS,
  allowsConnection,
  connectionsToList,
  equalConnections,
  everyPortProtocols,
  formatConnections,
  intersectConnections,
  isEmptyConnections,
  portsOf,
  subtractConnections,
  unionConnections,
} from "./model/connections";
export type { ConnectionSet, ModelProtocol, ProtocolPorts } from "./model/connections";

// Evaluation
export { Evaluator, evaluatePair } from "./evaluate/evaluator";
export type { ApplicableTier, CornerDecision, PairResult, TierPass } from "./evaluate/evaluator";
export { computeConnectivity, remoteRanges } from "./evaluate/matrix";
export type { ClassConnectivity, ClassPair, ExternalPair } from "./evaluate/matrix";
export type { PodClass } from "./evaluate/classes";
export {
  asEnforced as promotedPolicy,
  hasStagedPolicies,
  pendingModel,
  promotedModel,
} from "./evaluate/promote";

// Questions the policy pack asks (see engine/report/queries.ts)
export {
  externalAdmission,
  ipv6Admission,
  representativePods,
  shadowedRules,
} from "./report/queries";
export type { ExternalAdmission, ShadowedRule } from "./report/queries";

// Reports
export { explainFlow, suggestFlowYaml } from "./report/explain";
export type { FlowQuery, FlowExplanation, PairExplanation, QueryEndpoint } from "./report/explain";
export { namespaceConnections, workloadConnections, peerName } from "./report/connectivity";
export type { Connection, ConnectivityPeer } from "./report/connectivity";
export { CONNLIST_FORMATS, connlist, renderConnlist } from "./report/connlist";
export type { Connlist, ConnlistFormat, ConnlistOptions, FocusDirection } from "./report/connlist";
export { renderMermaidMarkdown, renderHtml, networkSetNames } from "./report/render";
export { renderMatrixMarkdown } from "./report/matrix-markdown";
export type { DiagramOptions, ExtraPicture } from "./report/render";
export {
  layoutToFit,
  MAX_PICTURE_WIDTH,
  PAGE_WIDTH,
  renderConnectivityPage,
  AGGREGATE_ABOVE_NAMESPACES,
} from "./report/render";
export type { PagePicture } from "./report/render";
export {
  externalNameRanges,
  nameExternalPeers,
  resolveExternalNames,
  namedConnectionText,
} from "./report/external-names";
export type { ExternalName, NamedConnection, PartialConnection } from "./report/external-names";
export { layoutPicture } from "./report/layout";
export type { Box, LaidOutPicture, PictureEdge, PictureGraph, PictureNode } from "./report/layout";
export { layoutProblems } from "./report/layout-check";
export { renderPictureSvg } from "./report/svg";
export type { ConnectionReason, LayerSpec } from "./report/pictures";
export {
  diffConnections,
  diffModels,
  diffPicture,
  renderDiff,
  renderDiffHtml,
} from "./report/diff";
export type { ConnectionChange } from "./report/diff";
export {
  explainedDiff,
  mergeBlocks,
  nameRange,
  renderExplainedDiff,
} from "./report/explained-diff";
export type {
  DeclaredEnd,
  ExplainedDiffOptions,
  PairChange,
  RangeName,
  RuleRef,
  ChangePart,
} from "./report/explained-diff";
export { explainWithPromotion, promotionCloses, renderPromotionCloses } from "./report/promotion";
export type { PromotionExplanation } from "./report/promotion";

/**
 * For the policy pack's intent check: every ordered namespace pair and namespace ↔ external
 * block with a non-empty allowed set (per-protocol port ranges, `viaHbone` flag).
 */
export function namespaceConnectivity(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
): Connection[] {
  return namespaceConnections(connectivity ?? computeConnectivity(model));
}

/** For the policy pack: is one flow allowed (every matching pod pair)? */
export function isFlowAllowed(model: ClusterModel, query: FlowQuery): boolean {
  return explainFlow(model, query).verdict === "allowed";
}
