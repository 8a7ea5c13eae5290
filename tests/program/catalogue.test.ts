import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { expandConnections } from "../../components/connections";
import { loadStackConfig } from "../../config/load";
import { renderFlowCatalogue } from "../../plan/catalogue";

describe("flow catalogue", () => {
  const config = loadStackConfig("homelab");
  const catalogue = renderFlowCatalogue(config, expandConnections(config));

  it("documents every protected namespace with its reasoning and both directions", () => {
    for (const ns of config.namespaces) {
      const section = catalogue.split(`\n## ${ns.name}\n`)[1]?.split("\n## ")[0];
      assert.ok(section, `no section for ${ns.name}`);
      assert.ok(section.includes("**In**") && section.includes("**Out**"));
      if (ns.notes) assert.ok(section.includes(ns.notes.slice(0, 40)), `${ns.name} notes missing`);
    }
  });

  it("shows HBONE on meshed corners as the CNI sees them", () => {
    assert.match(catalogue, /\| argo-workflows \| 15008\/TCP, 4566\/TCP \| flow \|/);
    assert.match(catalogue, /\| velero \| 4566\/TCP \| flow \|/);
  });

  it("is committed up to date in docs/flow-catalogue.md (regenerate with npm run plan)", () => {
    const committed = fs.readFileSync(path.join(__dirname, "../../docs/flow-catalogue.md"), "utf8");
    assert.equal(committed, catalogue);
  });
});
