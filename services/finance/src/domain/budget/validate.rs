//! The rules a budget's lines and costing model keep, each broken rule a field error under a
//! JSON pointer.

use std::collections::BTreeMap;

use hub_platform::{FieldError, Pence, directory::Partnership};

use super::{BlendPart, CostingModel, LineAmount, MAX_LINE_PENCE, WHOLE_BP, grouped};

/// Checks that a map names every member of the partnership once and nothing else.
fn members_named(
    map: &BTreeMap<String, i64>,
    partnership: &Partnership,
    pointer: &str,
    errors: &mut Vec<FieldError>,
) {
    for m in partnership.members {
        if !map.contains_key(*m) {
            errors.push(FieldError::new(
                format!("{pointer}/{m}"),
                "required",
                format!(
                    "every partner of {} needs a figure: {m} has none",
                    partnership.code
                ),
            ));
        }
    }
    for k in map.keys() {
        if !partnership.has_member(k) {
            errors.push(FieldError::new(
                format!("{pointer}/{k}"),
                "member",
                format!("{k} is not a partner of {}", partnership.code),
            ));
        }
    }
    for (k, v) in map {
        if *v < 0 || *v > MAX_LINE_PENCE {
            errors.push(FieldError::new(
                format!("{pointer}/{k}"),
                "range",
                format!(
                    "the figure must be between 0 and {}",
                    grouped(MAX_LINE_PENCE)
                ),
            ));
        }
    }
}

/// The rules a costing model must keep for `partnership` and a budget of `total`.
pub fn validate_model(
    model: &CostingModel,
    partnership: &Partnership,
    total: Pence,
    pointer: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match model {
        CostingModel::FixedPercentages { shares_bp } => {
            let at = format!("{pointer}/shares_bp");
            members_named(shares_bp, partnership, &at, &mut errors);
            let sum: i64 = shares_bp.values().sum();
            if sum != WHOLE_BP {
                errors.push(FieldError::new(
                    at,
                    "sum",
                    format!(
                        "the shares add up to {} bp, not 10,000 bp (100%)",
                        grouped(sum)
                    ),
                ));
            }
        }
        CostingModel::FixedSums { sums_pence } => {
            let at = format!("{pointer}/sums_pence");
            members_named(sums_pence, partnership, &at, &mut errors);
            let sum: i64 = sums_pence.values().sum();
            if sum != total.0 {
                errors.push(FieldError::new(
                    at,
                    "sum",
                    format!(
                        "the sums add up to {}, not the {} to be met",
                        Pence(sum),
                        total
                    ),
                ));
            }
        }
        CostingModel::Activity { measure, values }
        | CostingModel::Population { measure, values } => {
            validate_measure(measure, values, partnership, pointer, &mut errors);
        }
        CostingModel::Equal {} => {}
        CostingModel::Blend { parts } => {
            validate_blend(parts, partnership, total, pointer, &mut errors)
        }
    }
    errors
}

/// An activity or population model: a named measure some partner has some of.
fn validate_measure(
    measure: &str,
    values: &BTreeMap<String, i64>,
    partnership: &Partnership,
    pointer: &str,
    errors: &mut Vec<FieldError>,
) {
    if measure.trim().is_empty() {
        errors.push(FieldError::new(
            format!("{pointer}/measure"),
            "required",
            "name what is counted, e.g. children_placed_2016_17",
        ));
    }
    let at = format!("{pointer}/values");
    members_named(values, partnership, &at, errors);
    if values.values().all(|v| *v == 0) {
        errors.push(FieldError::new(
            at,
            "sum",
            "at least one partner must have some of the measure",
        ));
    }
}

/// A blend: two parts or more whose shares make 100%, each part checked against the amount
/// its share of `total` comes to.
fn validate_blend(
    parts: &[BlendPart],
    partnership: &Partnership,
    total: Pence,
    pointer: &str,
    errors: &mut Vec<FieldError>,
) {
    if parts.len() < 2 {
        errors.push(FieldError::new(
            format!("{pointer}/parts"),
            "min",
            "a blend has at least two parts",
        ));
    }
    let sum: i64 = parts.iter().map(|p| p.share_bp).sum();
    if sum != WHOLE_BP {
        errors.push(FieldError::new(
            format!("{pointer}/parts"),
            "sum",
            format!(
                "the parts' shares add up to {} bp, not 10,000 bp (100%)",
                grouped(sum)
            ),
        ));
    }
    let amounts = if sum == WHOLE_BP && parts.iter().all(|p| p.share_bp >= 0) {
        total.split(&parts.iter().map(|p| p.share_bp).collect::<Vec<_>>())
    } else {
        vec![Pence::ZERO; parts.len()]
    };
    let mut names = std::collections::HashSet::new();
    for (i, p) in parts.iter().enumerate() {
        let at = format!("{pointer}/parts/{i}");
        if !crate::domain::is_code(&p.name) {
            errors.push(FieldError::new(
                format!("{at}/name"),
                "format",
                "a part's name is a code such as base or activity",
            ));
        } else if !names.insert(p.name.as_str()) {
            errors.push(FieldError::new(
                format!("{at}/name"),
                "unique",
                "each part's name once",
            ));
        }
        validate_part(p, partnership, amounts[i], &at, errors);
    }
}

/// A blend's part: a share of 0–100% split by any model but another blend.
fn validate_part(
    part: &BlendPart,
    partnership: &Partnership,
    amount: Pence,
    at: &str,
    errors: &mut Vec<FieldError>,
) {
    if !(0..=WHOLE_BP).contains(&part.share_bp) {
        errors.push(FieldError::new(
            format!("{at}/share_bp"),
            "range",
            "a part's share is 0 to 10,000 bp",
        ));
    }
    if matches!(part.model, CostingModel::Blend { .. }) {
        errors.push(FieldError::new(
            format!("{at}/model/method"),
            "one_of",
            "a part is split by fixed_percentages, fixed_sums, activity, population or equal, not another blend",
        ));
    } else {
        errors.extend(validate_model(
            &part.model,
            partnership,
            amount,
            &format!("{at}/model"),
        ));
    }
}

/// The rules budget lines must keep (under `pointer`, e.g. `/lines`).
pub fn validate_lines(lines: &[LineAmount], pointer: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if lines.is_empty() {
        errors.push(FieldError::new(
            pointer,
            "required",
            "a budget has at least one line",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        if !crate::domain::is_code(&l.budget_line) {
            errors.push(FieldError::new(
                format!("{pointer}/{i}/budget_line"),
                "format",
                "a budget line is a code such as placements or commissioned_adoption_support",
            ));
        } else if !seen.insert(l.budget_line.as_str()) {
            errors.push(FieldError::new(
                format!("{pointer}/{i}/budget_line"),
                "unique",
                format!("{} is listed twice", l.budget_line),
            ));
        }
        if !(0..=MAX_LINE_PENCE).contains(&l.amount_pence.0) {
            errors.push(FieldError::new(
                format!("{pointer}/{i}/amount_pence"),
                "range",
                format!("an amount is 0 to {} pence", grouped(MAX_LINE_PENCE)),
            ));
        }
    }
    errors
}
