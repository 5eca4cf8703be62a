import { expect } from "chai";
import { DELIVERY_PRICES, estimateCost, estimateDeliveryCost, PRICES } from "../../bench/cost-model.js";
import { describeSettings, renderReport, type BenchReport } from "../../bench/report.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";

const KB100 = 100 * 1024;

describe("cost model: delivery", () => {
  it("prices a million views of 100 KB: presigned from S3, cdn from CloudFront with 5% cache misses", () => {
    const [presigned, cdn] = estimateDeliveryCost({ settings: parseSettings({}), bytesPerView: KB100 });
    const gb = (KB100 * 1e6) / 1e9;
    expect(presigned!.configured).to.equal(true);
    expect(presigned!.lines.map((l) => l.perMillion)).to.deep.equal([PRICES.s3Get * 1e6, gb * 0.09]);
    expect(cdn!.configured).to.equal(false);
    const expected = [1, gb * 0.085, 0.05 * PRICES.s3Get * 1e6];
    cdn!.lines.forEach((line, i) => expect(line.perMillion, line.item).to.be.closeTo(expected[i]!, 1e-12));
    expect(cdn!.lines).to.have.length(3);
    expect(cdn!.totalPerMillion).to.be.closeTo(
      expected.reduce((a, b) => a + b),
      1e-12,
    );
    expect(cdn!.fixedPerMonth).to.equal(0);
  });

  it("adds WAF's per-request price and its monthly web ACL and rule only with a rate limit", () => {
    const [, cdn] = estimateDeliveryCost({
      settings: parseSettings({ delivery: "cdn", rateLimitPer5Minutes: 1000 }),
      bytesPerView: KB100,
    });
    expect(cdn!.configured).to.equal(true);
    expect(cdn!.lines.at(-1)).to.deep.equal({ item: "WAF requests inspected", perImage: "1 request", perMillion: 0.6 });
    expect(cdn!.fixedPerMonth).to.equal(DELIVERY_PRICES.wafWebAclMonth + DELIVERY_PRICES.wafRuleMonth);
  });

  it("the bench's cost table shows both deliveries, marking the stack's", () => {
    const settings = parseSettings({ delivery: "cdn" });
    const report: BenchReport = {
      startedAt: "2026-12-01T00:00:00.000Z",
      machine: {
        cpuModel: "test",
        cores: 2,
        memoryMb: 4096,
        node: "v22",
        platform: "linux",
        load: { start: 0 },
      } as BenchReport["machine"],
      options: { runs: 1, tiny: true, corpus: "generated (tiny)", uploads: 0, clients: 0, only: ["engine"] },
      settings: describeSettings("test", settings),
      cost: {
        configured: estimateCost({ cpuMsPerImage: 500, settings }),
        otherArchitecture: estimateCost({ cpuMsPerImage: 500, settings, architecture: "x86_64" }),
        delivery: estimateDeliveryCost({ settings, bytesPerView: KB100 }),
      },
    };
    const text = renderReport(report);
    expect(text).to.contain("4a. Delivery: presigned, cost per 1 million variant views");
    expect(text).to.contain("4b. Delivery: cdn (this stack), cost per 1 million variant views");
    expect(text).to.match(/CloudFront HTTPS requests\s+1 request\s+\$1\.00/);
  });
});
