//! The risk-share agreement as data: how a forecast over- or underspend is met. No I/O.
//!
//! An overspend is met first from the risk pool (a contingency the partners hold for the
//! year, up to `pool_pence`), then the rest is split between the partners by `method`:
//! `contribution` (each partner's share of the budget), `usage` (each council's own
//! children's costs: the year's ledger lines for its placements and the block beds its
//! children are in), or a `blend` of the two. All partners with no usage split evenly. A partner with a cap bears no more than it; what the
//! cap keeps from it is split between the uncapped partners the same way, and what no one
//! can bear is shown as unmet. An underspend goes back to the partners by the same method
//! (the pool and the caps are for overspends). Every split is to the penny by largest
//! remainder, with its steps shown.

use std::collections::BTreeMap;

use hub_platform::{FieldError, Pence, directory::Partnership};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::budget::{MAX_LINE_PENCE, Step, WHOLE_BP, split_with_steps};

/// How what is left after the pool is split between the partners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = RiskShareMethod)]
pub enum ShareMethod {
    /// By each partner's contribution to the budget.
    Contribution {},
    /// By each council's own children's costs (its children's ledger lines for the year).
    Usage {},
    /// Part by contribution, part by usage (basis points adding up to 10,000).
    Blend { contribution_bp: i64, usage_bp: i64 },
}

/// The agreement. Absent from a budget, it is: no pool, by contribution, no caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskShare {
    /// The contingency held to meet an overspend first.
    #[serde(default)]
    pub pool_pence: Pence,
    pub share: ShareMethod,
    /// The most each capped partner bears of an overspend (after the pool).
    #[serde(default)]
    pub caps_pence: BTreeMap<String, i64>,
}

impl Default for RiskShare {
    fn default() -> Self {
        Self {
            pool_pence: Pence::ZERO,
            share: ShareMethod::Contribution {},
            caps_pence: BTreeMap::new(),
        }
    }
}

impl RiskShare {
    /// The rules the agreement must keep for `partnership` (under `pointer`).
    pub fn validate(&self, partnership: &Partnership, pointer: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !(0..=MAX_LINE_PENCE).contains(&self.pool_pence.0) {
            errors.push(FieldError::new(
                format!("{pointer}/pool_pence"),
                "range",
                "the pool is 0 or more pence",
            ));
        }
        if let ShareMethod::Blend {
            contribution_bp,
            usage_bp,
        } = self.share
            && (contribution_bp < 0 || usage_bp < 0 || contribution_bp + usage_bp != WHOLE_BP)
        {
            errors.push(FieldError::new(
                format!("{pointer}/share"),
                "sum",
                format!(
                    "contribution_bp and usage_bp add up to {} bp, not 10,000 bp (100%)",
                    contribution_bp + usage_bp
                ),
            ));
        }
        for (k, v) in &self.caps_pence {
            if !partnership.has_member(k) {
                errors.push(FieldError::new(
                    format!("{pointer}/caps_pence/{k}"),
                    "member",
                    format!("{k} is not a partner of {}", partnership.code),
                ));
            } else if !(0..=MAX_LINE_PENCE).contains(v) {
                errors.push(FieldError::new(
                    format!("{pointer}/caps_pence/{k}"),
                    "range",
                    "a cap is 0 or more pence",
                ));
            }
        }
        errors
    }
}

/// A partner's share of the variance and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = RiskPartnerShare)]
pub struct PartnerShare {
    pub council: String,
    /// Positive: the partner pays towards an overspend; negative: it gets an underspend back.
    pub share_pence: Pence,
    /// Its weight figures: contribution, and own children's costs.
    pub contribution_pence: Pence,
    pub usage_pence: Pence,
    pub cap_pence: Option<Pence>,
    pub steps: Vec<Step>,
}

/// A variance met under the agreement; the parts add up to the variance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = RiskSharing)]
pub struct Sharing {
    /// Forecast outturn − budget (positive = overspend).
    pub variance_pence: Pence,
    /// Met from the pool (an overspend only).
    pub from_pool_pence: Pence,
    /// Split between the partners.
    pub shared_pence: Pence,
    /// What caps left no one to bear.
    pub unmet_pence: Pence,
    pub partners: Vec<PartnerShare>,
}

/// One partner's figures for the split, in the partnership's member order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    pub council: String,
    pub contribution: Pence,
    pub usage: Pence,
}

/// Splits `amount` between `who` (indices into `bases`) by the agreement's method.
fn split_by_method(
    amount: Pence,
    bases: &[Basis],
    who: &[usize],
    share: &ShareMethod,
    round: &str,
) -> Vec<(usize, Vec<Step>, Pence)> {
    let weights = |by_usage: bool| -> Vec<(String, i64, String)> {
        who.iter()
            .map(|&i| {
                let b = &bases[i];
                if by_usage {
                    (
                        b.council.clone(),
                        b.usage.0.max(0),
                        format!("own children's costs {} of the partners'", b.usage),
                    )
                } else {
                    (
                        b.council.clone(),
                        b.contribution.0.max(0),
                        format!("contribution {} of the partners'", b.contribution),
                    )
                }
            })
            .collect()
    };
    let parts: Vec<(&str, Pence, bool)> = match share {
        ShareMethod::Contribution {} => vec![("contribution", amount, false)],
        ShareMethod::Usage {} => vec![("usage", amount, true)],
        ShareMethod::Blend {
            contribution_bp,
            usage_bp,
        } => {
            let a = amount.split(&[*contribution_bp, *usage_bp]);
            vec![("contribution", a[0], false), ("usage", a[1], true)]
        }
    };
    let mut out: Vec<(usize, Vec<Step>, Pence)> =
        who.iter().map(|&i| (i, Vec::new(), Pence::ZERO)).collect();
    for (name, part_amount, by_usage) in parts {
        let part = format!("{round}{name}");
        for (k, (_, step)) in split_with_steps(part_amount, &weights(by_usage), &part, name)
            .into_iter()
            .enumerate()
        {
            out[k].2 = out[k].2 + step.amount_pence;
            out[k].1.push(step);
        }
    }
    out
}

/// Meets `variance` under `agreement` between the partners in `bases`.
pub fn share_variance(variance: Pence, agreement: &RiskShare, bases: &[Basis]) -> Sharing {
    let over = variance.0 > 0;
    let from_pool = if over {
        variance.min(agreement.pool_pence)
    } else {
        Pence::ZERO
    };
    let shared = variance - from_pool;
    let mut shares: Vec<Pence> = vec![Pence::ZERO; bases.len()];
    let mut steps: Vec<Vec<Step>> = vec![Vec::new(); bases.len()];
    let mut left = shared;
    let mut open: Vec<usize> = (0..bases.len()).collect();
    let mut round = 0;
    // Split; cap those over their caps; split what the caps kept between the rest; repeat.
    while left != Pence::ZERO && !open.is_empty() {
        let prefix = if round == 0 {
            String::new()
        } else {
            format!("over_cap_{round}_")
        };
        let got = split_by_method(left, bases, &open, &agreement.share, &prefix);
        left = Pence::ZERO;
        let mut still_open = Vec::new();
        for (i, s, amount) in got {
            steps[i].extend(s);
            let cap = if over {
                agreement.caps_pence.get(&bases[i].council).copied()
            } else {
                None
            };
            let proposed = shares[i] + amount;
            match cap {
                Some(cap) if proposed.0 > cap => {
                    left = left + Pence(proposed.0 - cap);
                    shares[i] = Pence(cap);
                    steps[i].push(Step {
                        part: format!("{prefix}cap"),
                        method: "cap".into(),
                        basis: format!("capped at {}", Pence(cap)),
                        weight: 0,
                        total_weight: 0,
                        split_pence: proposed,
                        exact_pence: format!("{}.0000", cap),
                        floor_pence: Pence(cap),
                        remainder_penny: 0,
                        amount_pence: Pence(cap) - proposed,
                    });
                }
                Some(cap) if proposed.0 == cap => shares[i] = proposed,
                _ => {
                    shares[i] = proposed;
                    still_open.push(i);
                }
            }
        }
        open = still_open;
        round += 1;
    }
    Sharing {
        variance_pence: variance,
        from_pool_pence: from_pool,
        shared_pence: shared - left,
        unmet_pence: left,
        partners: bases
            .iter()
            .enumerate()
            .map(|(i, b)| PartnerShare {
                council: b.council.clone(),
                share_pence: shares[i],
                contribution_pence: b.contribution,
                usage_pence: b.usage,
                cap_pence: agreement.caps_pence.get(&b.council).copied().map(Pence),
                steps: std::mem::take(&mut steps[i]),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bases() -> Vec<Basis> {
        [
            ("L", 3733, 500),
            ("K", 1867, 0),
            ("S", 2150, 300),
            ("W", 2250, 200),
        ]
        .iter()
        .map(|(c, contribution, usage)| Basis {
            council: (*c).into(),
            contribution: Pence(*contribution),
            usage: Pence(*usage),
        })
        .collect()
    }

    fn amounts(s: &Sharing) -> Vec<i64> {
        s.partners.iter().map(|p| p.share_pence.0).collect()
    }

    #[test]
    fn an_overspend_is_met_from_the_pool_first_then_by_contribution() {
        let agreement = RiskShare {
            pool_pence: Pence(1_000),
            ..RiskShare::default()
        };
        // 10,001 over: 1,000 from the pool, 9,001 by 37.33/18.67/21.5/22.5: 3,360.07,
        // 1,680.49, 1,935.22, 2,025.23 → 3,360 + 1,680 + 1,935 + 2,025 = 9,000, the penny
        // to Knowsley's .49.
        let s = share_variance(Pence(10_001), &agreement, &bases());
        assert_eq!(
            (s.from_pool_pence.0, s.shared_pence.0, s.unmet_pence.0),
            (1_000, 9_001, 0)
        );
        assert_eq!(amounts(&s), vec![3_360, 1_681, 1_935, 2_025]);
        // An underspend goes back by the same shares, none to the pool.
        let s = share_variance(Pence(-9_001), &agreement, &bases());
        assert_eq!(s.from_pool_pence.0, 0);
        assert_eq!(amounts(&s), vec![-3_360, -1_681, -1_935, -2_025]);
        // Within the pool: nothing to the partners.
        let s = share_variance(Pence(999), &agreement, &bases());
        assert_eq!((s.from_pool_pence.0, amounts(&s)), (999, vec![0, 0, 0, 0]));
    }

    #[test]
    fn by_usage_with_a_cap_the_rest_goes_to_the_uncapped() {
        // 1,000 over by own children's costs 500/0/300/200: 500, 0, 300, 200. Liverpool is
        // capped at 400: the 100 kept goes to Sefton and Wirral by usage 300:200 = 60, 40
        // (Knowsley has no usage, so no share).
        let agreement = RiskShare {
            pool_pence: Pence::ZERO,
            share: ShareMethod::Usage {},
            caps_pence: [("L".to_owned(), 400)].into_iter().collect(),
        };
        let s = share_variance(Pence(1_000), &agreement, &bases());
        assert_eq!(amounts(&s), vec![400, 0, 360, 240]);
        assert_eq!(s.unmet_pence.0, 0);
        assert_eq!(s.partners[0].steps.last().unwrap().method, "cap");
        assert_eq!(s.partners[2].steps[1].part, "over_cap_1_usage");
        // Everyone capped: what is left is unmet.
        let all = RiskShare {
            pool_pence: Pence::ZERO,
            share: ShareMethod::Contribution {},
            caps_pence: ["L", "K", "S", "W"]
                .iter()
                .map(|c| ((*c).to_owned(), 10))
                .collect(),
        };
        let s = share_variance(Pence(100), &all, &bases());
        assert_eq!(
            (amounts(&s), s.unmet_pence.0, s.shared_pence.0),
            (vec![10, 10, 10, 10], 60, 40)
        );
    }

    #[test]
    fn a_blend_splits_part_by_contribution_and_part_by_usage() {
        let agreement = RiskShare {
            pool_pence: Pence::ZERO,
            share: ShareMethod::Blend {
                contribution_bp: 5_000,
                usage_bp: 5_000,
            },
            caps_pence: BTreeMap::new(),
        };
        // 2,000: 1,000 by contribution (373.3, 186.7, 215, 225 → 373, 187, 215, 225) and
        // 1,000 by usage (500, 0, 300, 200).
        let s = share_variance(Pence(2_000), &agreement, &bases());
        assert_eq!(amounts(&s), vec![873, 187, 515, 425]);
        assert_eq!(amounts(&s).iter().sum::<i64>(), 2_000);
        let bad = RiskShare {
            share: ShareMethod::Blend {
                contribution_bp: 5_000,
                usage_bp: 4_000,
            },
            ..agreement
        };
        let aim = hub_platform::directory::partnership("AIM").unwrap();
        let errors = bad.validate(aim, "/risk_share");
        assert_eq!(
            (errors[0].field.as_str(), errors[0].rule.as_str()),
            ("/risk_share/share", "sum")
        );
    }
}
