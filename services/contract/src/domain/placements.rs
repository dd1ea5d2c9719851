//! Placements: a child living in a provider's home under an order or in a block bed. No I/O.

use chrono::NaiveDate;
use hub_platform::http::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacementStatus {
    Active,
}

impl PlacementStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Active => "active",
        }
    }
}

/// A request to start the placement a signed order provides for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlacement {
    pub order_id: uuid::Uuid,
    /// The day the child moves in; the order's start date when left out.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
}

impl Validate for NewPlacement {}
