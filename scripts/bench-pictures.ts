/**
 * npx tsx scripts/bench-pictures.ts [SIZES…]   (default 18 200)
 * Times the connectivity page (ELK layouts included) on the bench's synthetic clusters (SIZE
 * namespaces counting kube-system and monitoring) and on the homelab. A measurement, not a test.
 */
import { expandConnections } from "../components/connections";
import { syntheticCluster } from "../cli/bench";
import { buildModel, computeConnectivity, renderConnectivityPage } from "../engine";
import { stackConnectivityPage } from "../plan/connectivity";
import { renderStack } from "../plan/render";

async function timePage(
  label: string,
  render: () => Promise<{ pictures: { laid: { width: number } }[] }>,
) {
  const started = process.hrtime.bigint();
  const page = await render();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const widest = Math.max(...page.pictures.map((p) => p.laid.width));
  console.log(
    `${label}: ${(ms / 1000).toFixed(2)} s, ${page.pictures.length} pictures, widest ${widest} px`,
  );
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  for (const size of sizes.length > 0 ? sizes : [18, 200]) {
    const model = buildModel(syntheticCluster(size - 2));
    const connectivity = computeConnectivity(model);
    await timePage(`synthetic, ${model.namespaces.size} namespaces`, () =>
      renderConnectivityPage(model, connectivity),
    );
  }
  const result = await renderStack("homelab");
  const connections = expandConnections(result.config);
  await timePage("homelab, 18 namespaces", () =>
    stackConnectivityPage(result.config, result.manifests, connections),
  );
}

void main();
