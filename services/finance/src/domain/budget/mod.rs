//! Pooled budgets and each partner's contribution to them. No I/O.
//!
//! A partnership's budget for a financial year is a set of budget lines (`staffing`,
//! `inter_agency_fees`, `commissioned_adoption_support`, `placements`, …), each an annual
//! amount in pence. The partners' contributions to the total follow the costing model the
//! partnership chose for that year:
//!
//! * `fixed_percentages`: each partner's share in basis points (31.25% = 3125), adding up to
//!   10,000;
//! * `fixed_sums`: each partner's sum, adding up to the total;
//! * `activity`: in proportion to a measure of use (e.g. children placed in a reference year);
//! * `population`: in proportion to a population (e.g. children aged 0–17);
//! * `equal`: the same for every partner;
//! * `blend`: parts of the total (basis points adding up to 10,000), each split by one of the
//!   above (e.g. a 40% base split equally and 60% by activity).
//!
//! Every split is to the penny by the largest-remainder method (ties to the partner listed
//! first in the partnership), so the contributions add up to the total exactly; each
//! contribution carries the steps it was derived by.

mod validate;
mod version;

use std::collections::BTreeMap;

use hub_platform::{Pence, directory::Partnership};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use validate::{validate_lines, validate_model};
pub use version::{Budget, BudgetVersion, FullVersion};

/// The most a budget line may hold: £100bn.
pub const MAX_LINE_PENCE: i64 = 10_000_000_000_000;
/// The whole in basis points (100%).
pub const WHOLE_BP: i64 = 10_000;

/// One budget line's annual amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BudgetLineAmount)]
pub struct LineAmount {
    /// A code such as `placements` or `commissioned_adoption_support`.
    pub budget_line: String,
    pub amount_pence: Pence,
}

/// How the partners' contributions are worked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum CostingModel {
    /// Each partner's share of the total in basis points; they add up to 10,000 (100%).
    FixedPercentages { shares_bp: BTreeMap<String, i64> },
    /// Each partner's sum; they add up to the total.
    FixedSums { sums_pence: BTreeMap<String, i64> },
    /// In proportion to a measure of use, e.g. `children_placed_2016_17`.
    Activity {
        measure: String,
        values: BTreeMap<String, i64>,
    },
    /// In proportion to a population, e.g. `population_0_17_mid_2016`.
    Population {
        measure: String,
        values: BTreeMap<String, i64>,
    },
    /// The same for every partner.
    Equal {},
    /// Parts of the total, each split by its own model (not a blend).
    Blend { parts: Vec<BlendPart> },
}

/// A part of a blended model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CostingBlendPart)]
pub struct BlendPart {
    /// E.g. `base`, `activity`.
    pub name: String,
    /// The part's share of the total in basis points; the parts add up to 10,000.
    pub share_bp: i64,
    #[schema(no_recursion)]
    pub model: CostingModel,
}

impl CostingModel {
    pub fn method(&self) -> &'static str {
        match self {
            Self::FixedPercentages { .. } => "fixed_percentages",
            Self::FixedSums { .. } => "fixed_sums",
            Self::Activity { .. } => "activity",
            Self::Population { .. } => "population",
            Self::Equal {} => "equal",
            Self::Blend { .. } => "blend",
        }
    }
}

/// One step of a contribution's derivation: its part of one split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = ContributionStep)]
pub struct Step {
    /// The part of the model (`whole` unless blended).
    pub part: String,
    pub method: String,
    /// In words, e.g. `3,125 bp of 10,000 bp of £1,000,000.01`.
    pub basis: String,
    /// The partner's weight and the weights' total.
    pub weight: i64,
    pub total_weight: i64,
    /// The amount split in this step.
    pub split_pence: Pence,
    /// `split × weight / total_weight`, to four decimal places of a penny.
    pub exact_pence: String,
    /// The whole pence of the exact share.
    pub floor_pence: Pence,
    /// The penny the largest-remainder method gave (0 or 1; −1 for a negative amount).
    pub remainder_penny: i64,
    pub amount_pence: Pence,
}

/// A partner's contribution and how it was derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = PartnerContribution)]
pub struct Contribution {
    pub council: String,
    pub amount_pence: Pence,
    pub steps: Vec<Step>,
}

/// `n × w / total` as a decimal of pence to four places, truncated.
pub fn exact(n: Pence, w: i64, total: i64) -> String {
    if total == 0 {
        return "0.0000".into();
    }
    let scaled = n.0 as i128 * w as i128 * 10_000 / total as i128;
    let sign = if scaled < 0 { "-" } else { "" };
    let a = scaled.abs();
    format!("{sign}{}.{:04}", a / 10_000, a % 10_000)
}

/// Splits `amount` by `weights` (largest remainder), with a step per partner.
pub fn split_with_steps(
    amount: Pence,
    weights: &[(String, i64, String)],
    part: &str,
    method: &str,
) -> Vec<(String, Step)> {
    let w: Vec<i64> = weights.iter().map(|x| x.1).collect();
    let total: i64 = w.iter().sum();
    let (w_used, total_used) = if total == 0 {
        (vec![1; w.len()], w.len() as i64)
    } else {
        (w.clone(), total)
    };
    let parts = amount.split(&w);
    weights
        .iter()
        .zip(parts)
        .zip(w_used)
        .map(|(((council, _, basis), got), weight)| {
            let floor = (amount.0 as i128 * weight as i128 / total_used as i128) as i64;
            (
                council.clone(),
                Step {
                    part: part.to_owned(),
                    method: method.to_owned(),
                    basis: basis.clone(),
                    weight,
                    total_weight: total_used,
                    split_pence: amount,
                    exact_pence: exact(amount, weight, total_used),
                    floor_pence: Pence(floor),
                    remainder_penny: got.0 - floor,
                    amount_pence: got,
                },
            )
        })
        .collect()
}

fn grouped(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The contributions of `partnership`'s members to `total` under `model` (already valid), in
/// the partnership's member order.
pub fn contributions(
    model: &CostingModel,
    partnership: &Partnership,
    total: Pence,
) -> Vec<Contribution> {
    let mut out: Vec<Contribution> = partnership
        .members
        .iter()
        .map(|m| Contribution {
            council: (*m).to_owned(),
            amount_pence: Pence::ZERO,
            steps: Vec::new(),
        })
        .collect();
    let parts: Vec<(String, Pence, &CostingModel)> = match model {
        CostingModel::Blend { parts } => {
            let amounts = total.split(&parts.iter().map(|p| p.share_bp).collect::<Vec<_>>());
            parts
                .iter()
                .zip(amounts)
                .map(|(p, a)| (p.name.clone(), a, &p.model))
                .collect()
        }
        other => vec![("whole".to_owned(), total, other)],
    };
    for (name, amount, model) in parts {
        let weights: Vec<(String, i64, String)> = partnership
            .members
            .iter()
            .map(|m| {
                let (w, basis) = match model {
                    CostingModel::FixedPercentages { shares_bp } => {
                        let w = shares_bp.get(*m).copied().unwrap_or(0);
                        (w, format!("{} bp of 10,000 bp of {amount}", grouped(w)))
                    }
                    CostingModel::FixedSums { sums_pence } => {
                        let w = sums_pence.get(*m).copied().unwrap_or(0);
                        (w, format!("a fixed sum of {}", Pence(w)))
                    }
                    CostingModel::Activity { measure, values }
                    | CostingModel::Population { measure, values } => {
                        let w = values.get(*m).copied().unwrap_or(0);
                        (w, format!("{} {measure} of {amount}", grouped(w)))
                    }
                    CostingModel::Equal {} | CostingModel::Blend { .. } => (
                        1,
                        format!(
                            "an equal share of {amount} ({} partners)",
                            partnership.members.len()
                        ),
                    ),
                };
                ((*m).to_owned(), w, basis)
            })
            .collect();
        for (i, (_, step)) in split_with_steps(amount, &weights, &name, model.method())
            .into_iter()
            .enumerate()
        {
            out[i].amount_pence = out[i].amount_pence + step.amount_pence;
            out[i].steps.push(step);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_platform::directory;

    fn aim() -> &'static Partnership {
        directory::partnership("AIM").unwrap()
    }

    fn map(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    const L: &str = directory::LIVERPOOL;
    const K: &str = directory::KNOWSLEY;
    const S: &str = directory::SEFTON;
    const W: &str = directory::WIRRAL;

    #[test]
    fn fixed_percentages_that_do_not_divide_evenly_add_up_by_largest_remainder() {
        // £1,000,000.07 at 37.33% / 18.67% / 21.5% / 22.5%: exact shares 37,330,002.6131,
        // 18,670,001.3069, 21,500,001.505, 22,500,001.575 → floors 100,000,005; the two
        // pennies left go to the largest remainders (Liverpool's .6131, Wirral's .575).
        let model = CostingModel::FixedPercentages {
            shares_bp: map(&[(L, 3733), (K, 1867), (S, 2150), (W, 2250)]),
        };
        assert!(validate_model(&model, aim(), Pence(100_000_007), "/m").is_empty());
        let c = contributions(&model, aim(), Pence(100_000_007));
        let got: Vec<(&str, i64)> = c
            .iter()
            .map(|c| (c.council.as_str(), c.amount_pence.0))
            .collect();
        assert_eq!(
            got,
            vec![
                (L, 37_330_003),
                (K, 18_670_001),
                (S, 21_500_001),
                (W, 22_500_002)
            ]
        );
        assert_eq!(c.iter().map(|c| c.amount_pence.0).sum::<i64>(), 100_000_007);
        let w = &c[3].steps[0];
        assert_eq!(
            (
                w.exact_pence.as_str(),
                w.floor_pence.0,
                w.remainder_penny,
                w.weight,
                w.total_weight
            ),
            ("22500001.5750", 22_500_001, 1, 2250, 10_000)
        );
        assert_eq!(w.basis, "2,250 bp of 10,000 bp of £1,000,000.07");
        assert_eq!(
            (
                c[1].steps[0].exact_pence.as_str(),
                c[1].steps[0].remainder_penny
            ),
            ("18670001.3069", 0)
        );
    }

    #[test]
    fn shares_that_do_not_make_the_whole_are_refused_naming_the_field() {
        let model = CostingModel::FixedPercentages {
            shares_bp: map(&[(L, 3733), (K, 1867), (S, 2150), (W, 2249)]),
        };
        let errors = validate_model(&model, aim(), Pence(1), "/costing_model");
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].field.as_str(), errors[0].rule.as_str()),
            ("/costing_model/shares_bp", "sum")
        );
        assert!(
            errors[0].message.contains("9,999 bp"),
            "{}",
            errors[0].message
        );
        // A missing partner and a stranger.
        let model = CostingModel::FixedSums {
            sums_pence: map(&[(L, 50), (K, 50), (S, 0), ("E06000006", 0)]),
        };
        let rules: Vec<(String, String)> = validate_model(&model, aim(), Pence(101), "/m")
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert_eq!(
            rules,
            vec![
                (format!("/m/sums_pence/{W}"), "required".into()),
                ("/m/sums_pence/E06000006".into(), "member".into()),
                ("/m/sums_pence".into(), "sum".into()),
            ]
        );
    }

    #[test]
    fn a_blend_is_a_base_split_equally_and_the_rest_by_activity() {
        // £100,000.00: 40% base (£40,000 / 4 = £10,000 each), 60% by children placed in
        // 2016/17 (Liverpool 40, Knowsley 13, Sefton 20, Wirral 24 of 97).
        let model = CostingModel::Blend {
            parts: vec![
                BlendPart {
                    name: "base".into(),
                    share_bp: 4000,
                    model: CostingModel::Equal {},
                },
                BlendPart {
                    name: "activity".into(),
                    share_bp: 6000,
                    model: CostingModel::Activity {
                        measure: "children_placed_2016_17".into(),
                        values: map(&[(L, 40), (K, 13), (S, 20), (W, 24)]),
                    },
                },
            ],
        };
        assert!(validate_model(&model, aim(), Pence(10_000_000), "/m").is_empty());
        let c = contributions(&model, aim(), Pence(10_000_000));
        // 6,000,000 × 40/97 = 2,474,226.80; × 13/97 = 804,123.71; × 20/97 = 1,237,113.40;
        // × 24/97 = 1,484,536.08: floors 5,999,998, two pennies to .80 and .71.
        let got: Vec<i64> = c.iter().map(|c| c.amount_pence.0).collect();
        assert_eq!(
            got,
            vec![
                1_000_000 + 2_474_227,
                1_000_000 + 804_124,
                1_000_000 + 1_237_113,
                1_000_000 + 1_484_536
            ]
        );
        assert_eq!(got.iter().sum::<i64>(), 10_000_000);
        assert_eq!(c[0].steps.len(), 2);
        assert_eq!(
            c[0].steps[1].basis,
            "40 children_placed_2016_17 of £60,000.00"
        );
        assert_eq!(
            c[0].steps[0].basis,
            "an equal share of £40,000.00 (4 partners)"
        );
        // A nested blend and parts that do not make the whole.
        let bad = CostingModel::Blend {
            parts: vec![
                BlendPart {
                    name: "a".into(),
                    share_bp: 5000,
                    model: model.clone(),
                },
                BlendPart {
                    name: "a".into(),
                    share_bp: 4000,
                    model: CostingModel::Equal {},
                },
            ],
        };
        let rules: Vec<(String, String)> = validate_model(&bad, aim(), Pence(1), "/m")
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("/m/parts".into(), "sum".into()),
                ("/m/parts/0/model/method".into(), "one_of".into()),
                ("/m/parts/1/name".into(), "unique".into()),
            ]
        );
    }

    #[test]
    fn fixed_sums_and_population_shares() {
        let sums = CostingModel::FixedSums {
            sums_pence: map(&[(L, 400), (K, 100), (S, 250), (W, 250)]),
        };
        assert!(validate_model(&sums, aim(), Pence(1000), "/m").is_empty());
        let c = contributions(&sums, aim(), Pence(1000));
        assert_eq!(
            c.iter().map(|c| c.amount_pence.0).collect::<Vec<_>>(),
            vec![400, 100, 250, 250]
        );
        assert_eq!(c[0].steps[0].basis, "a fixed sum of £4.00");
        // Population 0–17 (thousands): 100 / 30 / 60 / 70 of 260; 1,000p → 384.6, 115.4,
        // 230.8, 269.2 → 384 + 115 + 230 + 269 = 998; pennies to .6 (Liverpool) and .8 (Sefton).
        let pop = CostingModel::Population {
            measure: "population_0_17_thousands".into(),
            values: map(&[(L, 100), (K, 30), (S, 60), (W, 70)]),
        };
        let c = contributions(&pop, aim(), Pence(1000));
        assert_eq!(
            c.iter().map(|c| c.amount_pence.0).collect::<Vec<_>>(),
            vec![385, 115, 231, 269]
        );
        assert_eq!(validate_lines(&[], "/lines")[0].rule, "required");
        let lines = vec![
            LineAmount {
                budget_line: "staffing".into(),
                amount_pence: Pence(1),
            },
            LineAmount {
                budget_line: "staffing".into(),
                amount_pence: Pence(-1),
            },
            LineAmount {
                budget_line: "Bad Line".into(),
                amount_pence: Pence(0),
            },
        ];
        let rules: Vec<(String, String)> = validate_lines(&lines, "/lines")
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("/lines/1/budget_line".into(), "unique".into()),
                ("/lines/1/amount_pence".into(), "range".into()),
                ("/lines/2/budget_line".into(), "format".into()),
            ]
        );
    }
}
