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
    COUNCILS
        .iter()
        .find(|c| c.gss == gss)
        .or_else(|| added().councils.iter().copied().find(|c| c.gss == gss))
}

pub fn partnership(code: &str) -> Option<&'static Partnership> {
    PARTNERSHIPS.iter().find(|p| p.code == code).or_else(|| {
        added()
            .partnerships
            .iter()
            .copied()
            .find(|p| p.code == code)
    })
}

/// The partnerships a council belongs to.
pub fn partnerships_of(gss: &str) -> impl Iterator<Item = &'static Partnership> + '_ {
    let added: Vec<&'static Partnership> = added()
        .partnerships
        .iter()
        .copied()
        .filter(|p| p.has_member(gss))
        .collect();
    PARTNERSHIPS
        .iter()
        .filter(move |p| p.has_member(gss))
        .chain(added)
}

/// Councils and partnerships added for the life of the process (see [`add`]).
struct Added {
    councils: Vec<&'static Council>,
    partnerships: Vec<&'static Partnership>,
}

static ADDED: std::sync::RwLock<Added> = std::sync::RwLock::new(Added {
    councils: Vec::new(),
    partnerships: Vec::new(),
});

fn added() -> std::sync::RwLockReadGuard<'static, Added> {
    ADDED.read().unwrap_or_else(|e| e.into_inner())
}

/// Adds councils and partnerships to the directory for the life of the process, looked up
/// after the built-in ones: `hub bench ledger`'s national-scale synthetic partnerships, for
/// services running in the process that adds them. Adding an entry again is a no-op; an
/// entry that would redefine a code, or a member that is no council, is refused (nothing
/// is added).
pub fn add(councils: &[Council], partnerships: &[Partnership]) -> Result<(), String> {
    let mut added = ADDED.write().unwrap_or_else(|e| e.into_inner());
    let known_council = |added: &Added, gss: &str| {
        COUNCILS
            .iter()
            .chain(added.councils.iter().copied())
            .find(|c| c.gss == gss)
            .copied()
    };
    let known_partnership = |added: &Added, code: &str| {
        PARTNERSHIPS
            .iter()
            .chain(added.partnerships.iter().copied())
            .find(|p| p.code == code)
            .copied()
    };
    for c in councils {
        if known_council(&added, c.gss).is_some_and(|k| k != *c) {
            return Err(format!("council {} is in the directory already", c.gss));
        }
    }
    for p in partnerships {
        if known_partnership(&added, p.code).is_some_and(|k| k != *p) {
            return Err(format!(
                "partnership {} is in the directory already",
                p.code
            ));
        }
        for m in p.members {
            if known_council(&added, m).is_none() && !councils.iter().any(|c| c.gss == *m) {
                return Err(format!("{m} of {} is not a council", p.code));
            }
        }
    }
    for c in councils {
        if known_council(&added, c.gss).is_none() {
            added.councils.push(Box::leak(Box::new(*c)));
        }
    }
    for p in partnerships {
        if known_partnership(&added, p.code).is_none() {
            added.partnerships.push(Box::leak(Box::new(*p)));
        }
    }
    Ok(())
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
    fn added_partnerships_are_looked_up_after_the_built_in_ones() {
        let councils = [
            Council {
                gss: "E99900001",
                name: "Test council one",
            },
            Council {
                gss: "E99900002",
                name: "Test council two",
            },
        ];
        let p = Partnership {
            code: "TEST-ADDED",
            name: "Added for a test",
            members: &["E99900001", "E99900002"],
            lead_commissioner: "E99900001",
            finance_host: Some("E99900001"),
            local: None,
        };
        assert!(partnership("TEST-ADDED").is_none());
        add(&councils, &[p]).unwrap();
        assert_eq!(partnership("TEST-ADDED"), Some(&p));
        assert_eq!(council("E99900002").unwrap().name, "Test council two");
        assert!(partnerships_of("E99900001").any(|x| x.code == "TEST-ADDED"));
        assert_eq!(partnerships_of("E99900002").count(), 1);
        // Again: nothing changes. Redefining a code, or a member that is no council: refused.
        add(&councils, &[p]).unwrap();
        assert!(add(&[], &[Partnership { name: "Other", ..p }]).is_err());
        assert!(
            add(
                &[],
                &[Partnership {
                    code: "TEST-STRAY",
                    members: &["E99999999"],
                    ..p
                }]
            )
            .is_err()
        );
        assert!(partnership("TEST-STRAY").is_none());
        assert!(
            add(
                &[Council {
                    name: "Other",
                    ..councils[0]
                }],
                &[]
            )
            .is_err()
        );
    }

    #[test]
    fn distances_are_great_circle_miles() {
        // Liverpool (53.4084, -2.9916) to Nottingham (52.9548, -1.1581): about 82 miles.
        let d = distance_miles(53.4084, -2.9916, 52.9548, -1.1581);
        assert!((d - 82.1).abs() < 0.5, "{d}");
        assert_eq!(distance_miles(52.0, -1.0, 52.0, -1.0), 0.0);
    }
}
