//! The reference directory: councils by ONS GSS code, and the partnerships they commission
//! through (who leads procurement, who hosts the pooled finance, what counts as "local").

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Council {
    /// ONS GSS code, e.g. `E08000014`.
    pub gss: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LocalArea {
    pub centre_name: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub radius_miles: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Partnership {
    /// Short code used in events and URLs, e.g. `AIM`.
    pub code: &'static str,
    pub name: &'static str,
    /// GSS codes of the member councils.
    pub members: &'static [&'static str],
    /// The council that procures on behalf of all members.
    pub lead_commissioner: &'static str,
    /// The council that hosts the pooled budget and does the financial monitoring.
    pub finance_host: Option<&'static str>,
    /// What the partnership counts as a "local" placement, where it has said.
    #[schema(value_type = Option<LocalArea>)]
    pub local: Option<LocalArea>,
}

impl Partnership {
    pub fn has_member(&self, gss: &str) -> bool {
        self.members.contains(&gss)
    }
}

pub const LIVERPOOL: &str = "E08000012";
pub const KNOWSLEY: &str = "E08000011";
pub const ST_HELENS: &str = "E08000013";
pub const SEFTON: &str = "E08000014";
pub const WIRRAL: &str = "E08000015";
pub const HALTON: &str = "E06000006";
pub const DERBY: &str = "E06000015";
pub const NOTTINGHAM: &str = "E06000018";
pub const DERBYSHIRE: &str = "E10000007";
pub const NOTTINGHAMSHIRE: &str = "E10000024";
pub const HEREFORDSHIRE: &str = "E06000019";
pub const WORCESTERSHIRE: &str = "E10000034";
pub const SHROPSHIRE: &str = "E06000051";
pub const TELFORD_AND_WREKIN: &str = "E06000020";

pub const COUNCILS: &[Council] = &[
    Council {
        gss: LIVERPOOL,
        name: "Liverpool City Council",
    },
    Council {
        gss: KNOWSLEY,
        name: "Knowsley Metropolitan Borough Council",
    },
    Council {
        gss: ST_HELENS,
        name: "St Helens Borough Council",
    },
    Council {
        gss: SEFTON,
        name: "Sefton Metropolitan Borough Council",
    },
    Council {
        gss: WIRRAL,
        name: "Wirral Metropolitan Borough Council",
    },
    Council {
        gss: HALTON,
        name: "Halton Borough Council",
    },
    Council {
        gss: DERBY,
        name: "Derby City Council",
    },
    Council {
        gss: NOTTINGHAM,
        name: "Nottingham City Council",
    },
    Council {
        gss: DERBYSHIRE,
        name: "Derbyshire County Council",
    },
    Council {
        gss: NOTTINGHAMSHIRE,
        name: "Nottinghamshire County Council",
    },
    Council {
        gss: HEREFORDSHIRE,
        name: "Herefordshire Council",
    },
    Council {
        gss: WORCESTERSHIRE,
        name: "Worcestershire County Council",
    },
    Council {
        gss: SHROPSHIRE,
        name: "Shropshire Council",
    },
    Council {
        gss: TELFORD_AND_WREKIN,
        name: "Telford and Wrekin Council",
    },
];

pub const PARTNERSHIPS: &[Partnership] = &[
    Partnership {
        code: "AIM",
        name: "Adoption in Merseyside",
        members: &[LIVERPOOL, KNOWSLEY, SEFTON, WIRRAL],
        lead_commissioner: SEFTON,
        finance_host: Some(LIVERPOOL),
        local: None,
    },
    Partnership {
        code: "LCR-PPA",
        name: "Liverpool City Region Provider Partner Agreement",
        members: &[HALTON, KNOWSLEY, LIVERPOOL, SEFTON, ST_HELENS, WIRRAL],
        lead_commissioner: HALTON,
        finance_host: None,
        local: None,
    },
    Partnership {
        code: "D2N2",
        name: "D2N2 fostering and residential frameworks",
        members: &[DERBY, DERBYSHIRE, NOTTINGHAM, NOTTINGHAMSHIRE],
        lead_commissioner: NOTTINGHAMSHIRE,
        finance_host: None,
        local: Some(LocalArea {
            centre_name: "Nottingham city centre",
            latitude: 52.9536,
            longitude: -1.1505,
            radius_miles: 20.0,
        }),
    },
    Partnership {
        code: "WMAS",
        name: "West Mercia Adoption Service",
        members: &[
            HEREFORDSHIRE,
            WORCESTERSHIRE,
            SHROPSHIRE,
            TELFORD_AND_WREKIN,
        ],
        lead_commissioner: HEREFORDSHIRE,
        finance_host: Some(HEREFORDSHIRE),
        local: None,
    },
];

pub fn council(gss: &str) -> Option<&'static Council> {
    COUNCILS.iter().find(|c| c.gss == gss)
}

pub fn partnership(code: &str) -> Option<&'static Partnership> {
    PARTNERSHIPS.iter().find(|p| p.code == code)
}

/// The partnerships a council belongs to.
pub fn partnerships_of(gss: &str) -> impl Iterator<Item = &'static Partnership> + '_ {
    PARTNERSHIPS.iter().filter(move |p| p.has_member(gss))
}

/// Great-circle distance in miles (haversine, mean Earth radius 3,958.8 miles).
pub fn distance_miles(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 3958.8 * a.sqrt().asin()
}

/// `L20`, `WA7`, `CH41`, `EC1A`: an outward postcode (one or two capitals, a digit, then
/// optionally a digit or capital).
pub fn is_postcode_district(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let rest = &b[letters..];
    (1..=2).contains(&letters)
        && (1..=2).contains(&rest.len())
        && rest[0].is_ascii_digit()
        && rest
            .get(1)
            .is_none_or(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partnerships_are_as_the_council_papers_say() {
        let aim = partnership("AIM").unwrap();
        assert_eq!(aim.members.len(), 4);
        assert_eq!(aim.finance_host, Some(LIVERPOOL));
        assert_eq!(aim.lead_commissioner, SEFTON);
        assert_eq!(partnership("LCR-PPA").unwrap().members.len(), 6);
        assert_eq!(
            partnership("D2N2").unwrap().local.unwrap().radius_miles,
            20.0
        );
        for p in PARTNERSHIPS {
            for m in p.members {
                assert!(
                    council(m).is_some(),
                    "{m} of {} is not in the directory",
                    p.code
                );
            }
        }
        assert_eq!(partnerships_of(SEFTON).count(), 2);
    }

    #[test]
    fn distances_are_great_circle_miles() {
        // Liverpool (53.4084, -2.9916) to Nottingham (52.9548, -1.1581): about 82 miles.
        let d = distance_miles(53.4084, -2.9916, 52.9548, -1.1581);
        assert!((d - 82.1).abs() < 0.5, "{d}");
        assert_eq!(distance_miles(52.0, -1.0, 52.0, -1.0), 0.0);
    }
}
