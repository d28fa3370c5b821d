//! One rule for "this is one tenant's problem", shared by classify (failure counts) and
//! saturation (worker time lost): a tenant with at least `TENANT_SHARE` of the weight.

/// The key of events without a tenant.
pub const UNKNOWN_TENANT: &str = "(unknown)";
/// One tenant with at least this share of a failure (or of lost time) makes it that tenant's.
pub const TENANT_SHARE: f64 = 0.8;

/// The tenant carrying at least `TENANT_SHARE` of `weights` (tenant, weight), with its weight
/// and the total; events without a tenant count in the total but are never the answer.
pub fn dominant_tenant<'a>(
    weights: impl IntoIterator<Item = (&'a str, f64)>,
) -> Option<(&'a str, f64, f64)> {
    let weights: Vec<(&str, f64)> = weights.into_iter().collect();
    let total: f64 = weights.iter().map(|(_, weight)| weight).sum();
    if total <= 0.0 {
        return None;
    }
    weights
        .into_iter()
        .filter(|(tenant, _)| *tenant != UNKNOWN_TENANT)
        .find(|(_, weight)| *weight >= TENANT_SHARE * total)
        .map(|(tenant, weight)| (tenant, weight, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_needs_four_fifths_and_a_name() {
        assert_eq!(
            dominant_tenant([("globex", 8.0), ("acme", 2.0)]),
            Some(("globex", 8.0, 10.0))
        );
        assert_eq!(dominant_tenant([("globex", 7.0), ("acme", 3.0)]), None);
        assert_eq!(
            dominant_tenant([(UNKNOWN_TENANT, 9.0), ("acme", 1.0)]),
            None
        );
        assert_eq!(dominant_tenant([]), None);
    }
}
