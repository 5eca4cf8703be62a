import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../handlers/lib/config/settings.js";
import { ResourceTypes } from "./resource-types.js";

export interface CostBudgetArgs {
  /** The monthly amount, in US dollars, the alerts are measured against. */
  monthlyUsd: number;
  /** Who is told (AWS Budgets mails it directly). */
  email: string;
  /** The cost allocation tag that marks the stack's resources (components/stack-tags.ts). */
  tag: { key: string; value: string };
  /**
   * Activate `tag.key` as a cost allocation tag (the budget counts nothing until it is active). Billing must have
   * seen the tag first (up to 24 h after the first deploy), and in an organisation only the payer account may.
   * @default false
   */
  activateTag?: boolean;
  /**
   * Alert once actual spend passes this share of the budget.
   * @default 80
   */
  actualPercent?: number;
  /**
   * Alert once the month's forecast passes this share of the budget.
   * @default 100
   */
  forecastPercent?: number;
}

/**
 * A monthly AWS Budgets cost budget over the resources tagged with the stack, mailing `email` when actual spend
 * passes 80% of it and when the forecast passes 100%. An alert, not a cap: AWS stops nothing by itself.
 */
export class CostBudget extends pulumi.ComponentResource {
  readonly budget: aws.budgets.Budget;
  /** With `activateTag`. */
  readonly tagActivation?: aws.costexplorer.CostAllocationTag;

  constructor(name: string, args: CostBudgetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.CostBudget, name, {}, opts);
    const alert = (notificationType: "ACTUAL" | "FORECASTED", threshold: number) => ({
      notificationType,
      comparisonOperator: "GREATER_THAN",
      threshold,
      thresholdType: "PERCENTAGE",
      subscriberEmailAddresses: [args.email],
    });
    this.budget = new aws.budgets.Budget(
      name,
      {
        budgetType: "COST",
        timeUnit: "MONTHLY",
        limitAmount: String(args.monthlyUsd),
        limitUnit: "USD",
        // Cost Explorer's form for a user-defined tag: user:<key>$<value>.
        costFilters: [{ name: "TagKeyValue", values: [`user:${args.tag.key}$${args.tag.value}`] }],
        notifications: [alert("ACTUAL", args.actualPercent ?? 80), alert("FORECASTED", args.forecastPercent ?? 100)],
      },
      { parent: this },
    );
    if (args.activateTag) {
      // One activation per account for a key every stack shares: destroying dev must not stop prod's budget.
      this.tagActivation = new aws.costexplorer.CostAllocationTag(
        `${name}-tag`,
        { tagKey: args.tag.key, status: "Active" },
        { parent: this, retainOnDelete: true },
      );
    }
    this.registerOutputs({ budgetArn: this.budget.arn });
  }
}

/**
 * What `pulumi up` says about a budget whose tag the program does not activate: one line, or nothing (no budget,
 * or `budget.activateTag` on).
 */
export function budgetTagNotice(settings: Settings, tagKey: string): string | undefined {
  if (!settings.budget || settings.budget.activateTag) return undefined;
  return (
    `budget: counts nothing until the tag ${tagKey} is an active cost allocation tag; once billing has seen it ` +
    `(up to 24 h after the first deploy) activate it from the payer account, or set budget.activateTag: true (docs/deploy.md)`
  );
}
