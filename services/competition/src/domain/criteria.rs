//! Award criteria: the seed's list (location, best match, compatibility, quality, price,
//! service offer), each a pass/fail gate or scored with a weight; scored weights sum to 100.

use hub_platform::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

hub_platform::code_enum! {
    /// A criterion of the LCR PPA's list (4.2 of the council paper).
    #[derive(Hash, PartialOrd, Ord)]
    pub enum CriterionName {
        Location,
        BestMatch,
        Compatibility,
        Quality,
        Price,
        ServiceOffer,
    }
}

impl CriterionName {
    pub const ALL: [CriterionName; 6] = [
        Self::Location,
        Self::BestMatch,
        Self::Compatibility,
        Self::Quality,
        Self::Price,
        Self::ServiceOffer,
    ];

    /// In words, for the reasons an unsuccessful provider is given.
    pub fn label(self) -> &'static str {
        match self {
            Self::Location => "location",
            Self::BestMatch => "best match",
            Self::Compatibility => "compatibility",
            Self::Quality => "quality",
            Self::Price => "price",
            Self::ServiceOffer => "service offer",
        }
    }

    /// Scored by the platform (price pro rata, location by distance), not by the commissioner.
    pub fn is_automatic(self) -> bool {
        matches!(self, Self::Price | Self::Location)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A gate: a bid that fails it is not acceptable, whatever it scores.
    PassFail,
    /// Weighted: contributes up to `weight` points out of 100.
    Scored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub criterion: CriterionName,
    pub mode: Mode,
    /// Points out of 100 for a scored criterion; 0 (or absent) for a pass/fail gate.
    #[serde(default)]
    pub weight: u32,
}

impl Criterion {
    pub const fn scored(criterion: CriterionName, weight: u32) -> Self {
        Self {
            criterion,
            mode: Mode::Scored,
            weight,
        }
    }

    pub const fn gate(criterion: CriterionName) -> Self {
        Self {
            criterion,
            mode: Mode::PassFail,
            weight: 0,
        }
    }

    pub fn is_gate(&self) -> bool {
        self.mode == Mode::PassFail
    }
}

/// What a competition is judged on when neither the commissioner nor the lot says otherwise.
pub fn fallback_criteria() -> Vec<Criterion> {
    vec![
        Criterion::scored(CriterionName::Price, 60),
        Criterion::scored(CriterionName::Quality, 40),
    ]
}

/// The rules a set of criteria keeps, with `pointer` the JSON pointer of the list:
/// at least one criterion, none twice, gates carry no weight, scored criteria carry at
/// least 1 point, and the scored weights add up to exactly 100 (rule `sum_100`).
pub fn validate(pointer: &str, criteria: &[Criterion]) -> Vec<FieldError> {
    let mut e = Vec::new();
    if criteria.is_empty() {
        e.push(FieldError::new(
            pointer,
            "min_items",
            "a competition needs at least one criterion",
        ));
        return e;
    }
    for (i, c) in criteria.iter().enumerate() {
        if criteria[..i].iter().any(|o| o.criterion == c.criterion) {
            e.push(FieldError::new(
                format!("{pointer}/{i}/criterion"),
                "unique",
                format!("{} is listed twice", c.criterion),
            ));
        }
        match c.mode {
            Mode::PassFail if c.weight != 0 => e.push(FieldError::new(
                format!("{pointer}/{i}/weight"),
                "pass_fail_unweighted",
                "a pass/fail criterion carries no weight",
            )),
            Mode::Scored if c.weight == 0 => e.push(FieldError::new(
                format!("{pointer}/{i}/weight"),
                "min",
                "a scored criterion carries at least 1 point",
            )),
            _ => {}
        }
    }
    let sum: u32 = criteria
        .iter()
        .filter(|c| c.mode == Mode::Scored)
        .map(|c| c.weight)
        .sum();
    if sum != 100 {
        e.push(FieldError::new(
            pointer,
            "sum_100",
            format!("the scored criteria's weights add up to {sum}, not 100"),
        ));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_is_price_60_quality_40_and_valid() {
        let c = fallback_criteria();
        assert_eq!(c[0], Criterion::scored(CriterionName::Price, 60));
        assert!(validate("/criteria", &c).is_empty());
    }

    #[test]
    fn scored_weights_must_sum_to_100() {
        let c = vec![
            Criterion::scored(CriterionName::Price, 50),
            Criterion::scored(CriterionName::Quality, 40),
            Criterion::gate(CriterionName::Location),
        ];
        let e = validate("/criteria", &c);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].field.as_str(), e[0].rule.as_str()),
            ("/criteria", "sum_100")
        );
        assert!(e[0].message.contains("90"));
        // Gates only: nothing to rank on.
        let e = validate("/criteria", &[Criterion::gate(CriterionName::Location)]);
        assert_eq!(e[0].rule, "sum_100");
    }

    #[test]
    fn duplicates_weighted_gates_and_empty_lists_are_refused() {
        let c = vec![
            Criterion::scored(CriterionName::Price, 100),
            Criterion::scored(CriterionName::Price, 0),
            Criterion {
                criterion: CriterionName::Location,
                mode: Mode::PassFail,
                weight: 5,
            },
        ];
        let rules: Vec<(String, String)> = validate("/c", &c)
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert!(rules.contains(&("/c/1/criterion".into(), "unique".into())));
        assert!(rules.contains(&("/c/1/weight".into(), "min".into())));
        assert!(rules.contains(&("/c/2/weight".into(), "pass_fail_unweighted".into())));
        assert_eq!(validate("/c", &[])[0].rule, "min_items");
    }

    #[test]
    fn codes_round_trip() {
        for c in CriterionName::ALL {
            assert_eq!(c.to_string().parse::<CriterionName>().ok(), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::Value::String(c.to_string())
            );
        }
        assert!(CriterionName::Price.is_automatic() && !CriterionName::Quality.is_automatic());
    }
}
