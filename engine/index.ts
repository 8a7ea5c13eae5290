/**
 * Public API of the connectivity engine. Everything other folders may use is exported here;
 * files under engine/ are internal and may change without notice.
 */
export { CalicoSelectorError, parseCalicoSelector } from "./calico/selector";
export type { CalicoSelector } from "./calico/selector";
