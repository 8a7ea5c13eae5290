// The pack's entry point for `pulumi preview --policy-pack policypack`. Constructing a PolicyPack
// starts the analyzer gRPC server, so nothing but the engine (or a spawned test) may import this.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, { policies: [...policies], enforcementLevel: "mandatory" });
