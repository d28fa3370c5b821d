//! Latency percentiles in bounded memory. Values are kept exactly up to `EXACT_LIMIT`; beyond
//! that they go into log-linear buckets 1% wide, so a reported percentile is within 1% of the
//! true nearest-rank value whatever the number of samples.

const EXACT_LIMIT: usize = 4096;
/// Bucket width: each bucket spans a factor of `1 + RELATIVE_ERROR`.
const RELATIVE_ERROR: f64 = 0.01;
/// Values below this (milliseconds) share the first bucket.
const FLOOR: f64 = 0.001;

#[derive(Debug, Clone, Default)]
pub struct Percentiles {
    exact: Vec<f64>,
    buckets: Buckets,
    count: u64,
    max: f64,
}

/// Counts per bucket, dense over the range of buckets met (a node's latencies span a few
/// hundred): an add is an index, not a tree insert. Values at or below `FLOOR` are counted
/// apart, before every bucket.
#[derive(Debug, Clone, Default)]
struct Buckets {
    floor: u64,
    /// The bucket number of `counts[0]`.
    first: i32,
    counts: Vec<u64>,
}

impl Buckets {
    fn is_empty(&self) -> bool {
        self.floor == 0 && self.counts.is_empty()
    }

    /// Counted in place when the bucket is in the range already met (nearly every add once a
    /// node's latencies have been seen a while); growing the range goes apart.
    #[inline(always)]
    fn add(&mut self, bucket: i32, count: u64) {
        if bucket == i32::MIN {
            // A zero (an empty queue, most queue readings): counted apart, here.
            self.floor += count;
            return;
        }
        let at = bucket.wrapping_sub(self.first) as u32 as usize;
        if bucket >= self.first
            && let Some(counted) = self.counts.get_mut(at)
        {
            *counted += count;
            return;
        }
        self.add_growing(bucket, count);
    }

    #[inline(never)]
    fn add_growing(&mut self, bucket: i32, count: u64) {
        if self.counts.is_empty() {
            self.first = bucket;
            self.counts.push(0);
        } else if bucket < self.first {
            let grow = (self.first - bucket) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = bucket;
        }
        let at = (bucket - self.first) as usize;
        if at >= self.counts.len() {
            self.counts.resize(at + 1, 0);
        }
        self.counts[at] += count;
    }

    /// (bucket, count) in bucket order, empty buckets left out.
    fn iter(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        let floor = (self.floor > 0).then_some((i32::MIN, self.floor));
        let first = self.first;
        floor.into_iter().chain(
            self.counts
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(move |(at, count)| (first + at as i32, *count)),
        )
    }
}

impl Percentiles {
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        let value = value.max(0.0);
        self.add_in(value, || bucket_of(value));
    }

    /// `add` for a whole number (a queue depth, three a saturation event): its bucket looked up
    /// without the float tests (the same bucket and count as `add(value as f64)`).
    pub fn add_whole(&mut self, value: i64) {
        let Some(&bucket) = usize::try_from(value.max(0))
            .ok()
            .and_then(|whole| SMALL_WHOLE_BUCKETS.get(whole))
        else {
            return self.add(value as f64);
        };
        self.add_in(value.max(0) as f64, || bucket);
    }

    /// Adds `value` (finite, not negative), in `bucket()` when buckets count it.
    #[inline(always)]
    fn add_in(&mut self, value: f64, bucket: impl FnOnce() -> i32) {
        self.count += 1;
        self.max = self.max.max(value);
        if !self.exact.is_empty() || self.buckets.is_empty() {
            if self.exact.len() < EXACT_LIMIT {
                self.exact.push(value);
                return;
            }
            self.spill();
        }
        self.buckets.add(bucket(), 1);
    }

    /// The exact values counted in buckets: past `EXACT_LIMIT` of them, and before any bucket
    /// is counted (so a set has values in one place or the other, never both).
    #[inline(never)]
    fn spill(&mut self) {
        for spilled in std::mem::take(&mut self.exact) {
            self.buckets.add(bucket_of(spilled), 1);
        }
    }

    /// Merges another set of samples (for chunked, parallel analysis).
    pub fn merge(&mut self, other: &Percentiles) {
        for value in &other.exact {
            self.add(*value);
        }
        if !other.buckets.is_empty() {
            self.spill();
            for (bucket, count) in other.buckets.iter() {
                self.buckets.add(bucket, count);
            }
            self.count += other.count - other.exact.len() as u64;
            self.max = self.max.max(other.max);
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The samples at or above `threshold` (within the buckets' 1% once values are bucketed:
    /// a bucket counts when its middle is).
    pub fn count_at_least(&self, threshold: f64) -> u64 {
        if self.buckets.is_empty() {
            return self.exact.iter().filter(|v| **v >= threshold).count() as u64;
        }
        self.buckets
            .iter()
            .filter(|(bucket, _)| value_of(*bucket) >= threshold)
            .map(|(_, count)| count)
            .sum()
    }

    /// The nearest-rank percentile `p` (0 < p <= 100): the smallest value with at least p% of
    /// the samples at or below it.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        if self.buckets.is_empty() {
            // The rank's value alone: a selection, not a whole sort (reports ask several
            // percentiles of thousands of samples each).
            let mut values = self.exact.clone();
            let at = rank as usize - 1;
            if at >= values.len() {
                return None;
            }
            let (_, value, _) = values.select_nth_unstable_by(at, f64::total_cmp);
            return Some(*value);
        }
        let mut seen = 0;
        for (bucket, count) in self.buckets.iter() {
            seen += count;
            if seen >= rank {
                return Some(value_of(bucket).min(self.max));
            }
        }
        Some(self.max)
    }
}

fn bucket_of(value: f64) -> i32 {
    // Queue depths are small whole numbers, three a saturation event: their buckets are
    // looked up (worked out by the same formula once), not a logarithm each.
    // Casts, not `fract`: without SSE4.1 (not in the x86-64 baseline) that is a libm call.
    if (0.0..SMALL_WHOLE as f64).contains(&value) {
        // In range (NaN is not): the truncating conversion needs none of `as`'s saturation.
        // SAFETY: `value` is finite, and truncated it fits a `usize`.
        let whole = unsafe { value.to_int_unchecked::<usize>() };
        if whole as f64 == value {
            return SMALL_WHOLE_BUCKETS[whole];
        }
    }
    if value > FLOOR
        && let Some(bucket) = bucket_in_runs(value)
    {
        return bucket;
    }
    bucket_by_formula(value)
}

/// Where a value is not within `GUARD` (relative) of a bucket's edge, its bucket without a
/// logarithm (a libm call, most of a latency's add): from the run of doubles it is in, those
/// sharing its exponent and the top `RUN_BITS` bits of its mantissa. A run spans a factor
/// under 2^(1/128), less than a bucket's 1.01, so it meets one bucket edge at most. Away
/// from an edge by `GUARD` the formula's answer is not in doubt (its rounding errors are
/// about 1e-12 of a bucket; `GUARD` is a hundred times that), so both give the same bucket;
/// near one, the formula decides.
fn bucket_in_runs(value: f64) -> Option<i32> {
    let runs = &*BUCKET_RUNS;
    let key = (value.to_bits() >> RUN_SHIFT).wrapping_sub(runs.first_key);
    let run = runs.runs.get(usize::try_from(key).ok()?)?;
    if value >= run.starts_clear && value < run.next_near {
        Some(run.bucket)
    } else if value >= run.next_clear {
        Some(run.bucket + 1)
    } else {
        None
    }
}

/// Mantissa bits that, with the exponent, name a run (see `bucket_in_runs`).
const RUN_BITS: u32 = 7;
const RUN_SHIFT: u32 = f64::MANTISSA_DIGITS - 1 - RUN_BITS;
/// How near (relative) a bucket's edge a value is left to the formula.
const GUARD: f64 = 1e-12;
/// Values from here on (2^32 ms: 49 days) are left to the formula: the runs up to it are
/// 5,400, 170 KB.
const RUNS_END: f64 = 4_294_967_296.0;

struct BucketRuns {
    /// The key (`value.to_bits() >> RUN_SHIFT`) of `runs[0]`.
    first_key: u64,
    runs: Box<[Run]>,
}

/// A run of doubles: it starts in `bucket`, and may reach into `bucket + 1`.
struct Run {
    bucket: i32,
    /// Values from here (past `bucket`'s lower edge by `GUARD`) ...
    starts_clear: f64,
    /// ... to here (short of the next bucket's edge by `GUARD`) are in `bucket`; values from
    /// here on (past that edge by `GUARD`) in the next one.
    next_near: f64,
    next_clear: f64,
}

static BUCKET_RUNS: std::sync::LazyLock<BucketRuns> = std::sync::LazyLock::new(|| {
    let growth = 1.0 + RELATIVE_ERROR;
    // Bucket `b`'s lower edge (a power's rounding, far inside `GUARD`).
    let edge = |bucket: i32| FLOOR * growth.powf(f64::from(bucket));
    let first_key = FLOOR.to_bits() >> RUN_SHIFT;
    let end_key = RUNS_END.to_bits() >> RUN_SHIFT;
    let runs = (first_key..end_key)
        .map(|key| {
            let start = f64::from_bits(key << RUN_SHIFT);
            // The bucket whose edges hold the run's first value.
            let mut bucket = floor_to_i32((start / FLOOR).ln() / growth.ln());
            while edge(bucket + 1) <= start {
                bucket += 1;
            }
            while edge(bucket) > start {
                bucket -= 1;
            }
            let next = edge(bucket + 1);
            Run {
                bucket,
                starts_clear: edge(bucket) * (1.0 + GUARD),
                next_near: next * (1.0 - GUARD),
                next_clear: next * (1.0 + GUARD),
            }
        })
        .collect();
    BucketRuns { first_key, runs }
});

/// `x.floor() as i32`, without the libm call `floor` is on the x86-64 baseline (the same value
/// for every `x`, NaN and out-of-range ones included: the casts saturate alike).
#[inline]
pub(crate) fn floor_to_i32(x: f64) -> i32 {
    let truncated = x as i32;
    if f64::from(truncated) > x {
        truncated.saturating_sub(1)
    } else {
        truncated
    }
}

/// Whole numbers below this have their bucket in `SMALL_WHOLE_BUCKETS`.
const SMALL_WHOLE: usize = 1024;

static SMALL_WHOLE_BUCKETS: std::sync::LazyLock<[i32; SMALL_WHOLE]> =
    std::sync::LazyLock::new(|| std::array::from_fn(|whole| bucket_by_formula(whole as f64)));

fn bucket_by_formula(value: f64) -> i32 {
    if value <= FLOOR {
        return i32::MIN;
    }
    floor_to_i32((value / FLOOR).ln() / (1.0 + RELATIVE_ERROR).ln())
}

/// The middle of a bucket (geometric), within `RELATIVE_ERROR / 2` of every value in it.
fn value_of(bucket: i32) -> f64 {
    if bucket == i32::MIN {
        return 0.0;
    }
    FLOOR * (1.0 + RELATIVE_ERROR).powf(bucket as f64 + 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_take_the_bucket_the_formula_gives() {
        for whole in 0..SMALL_WHOLE + 10 {
            let value = whole as f64;
            assert_eq!(bucket_of(value), bucket_by_formula(value), "{value}");
            assert_eq!(bucket_of(value + 0.5), bucket_by_formula(value + 0.5));
        }
        assert_eq!(bucket_of(-0.0), i32::MIN);
    }

    /// The runs give the formula's bucket: at every bucket edge and a few doubles either
    /// side of it, and at random values from below the floor to past the runs' end.
    #[test]
    fn buckets_found_in_runs_are_the_formulas() {
        let growth = 1.0 + RELATIVE_ERROR;
        let mut checked_in_runs = 0;
        let mut check = |value: f64| {
            assert_eq!(bucket_of(value), bucket_by_formula(value), "{value:e}");
            if value > FLOOR && bucket_in_runs(value).is_some() {
                checked_in_runs += 1;
            }
        };
        // Every edge up to the runs' end (bucket 2,923, 2^32 ms) and past it.
        for bucket in -3..2940 {
            let edge = FLOOR * growth.powf(f64::from(bucket));
            for ulps in -3i64..=3 {
                check(f64::from_bits(edge.to_bits().wrapping_add_signed(ulps)));
            }
            check(edge * (1.0 + 2.0 * GUARD));
            check(edge * (1.0 - 2.0 * GUARD));
        }
        let mut random = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..300_000 {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            // Uniform in the logarithm, from 1e-5 to 1e11 ms.
            check(10f64.powf(-5.0 + 16.0 * (random >> 11) as f64 / (1u64 << 53) as f64));
        }
        check(RUNS_END);
        check(f64::from_bits(RUNS_END.to_bits() - 1));
        check(FLOOR);
        check(f64::from_bits(FLOOR.to_bits() + 1));
        // Most of them (the random ones from the floor to the runs' end, 79%: 237,000).
        assert!(checked_in_runs > 230_000, "{checked_in_runs}");
    }

    #[test]
    fn floor_to_i32_is_floor_then_a_saturating_cast() {
        let edges = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999_999,
            -2.000_001,
            1e-300,
            -1e-300,
            2_147_483_646.5,
            2_147_483_647.0,
            2_147_483_648.0,
            3e9,
            -2_147_483_648.0,
            -2_147_483_648.5,
            -2_147_483_649.0,
            -3e9,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut random = 0x9e37_79b9_7f4a_7c15_u64;
        let randoms = (0..100_000).map(|_| {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            (random as i64 as f64) / (1u64 << (random % 64)) as f64
        });
        for x in edges.into_iter().chain(randoms) {
            assert_eq!(floor_to_i32(x), x.floor() as i32, "{x}");
        }
    }

    /// Whole numbers added as such are counted as their floats are: below, in and past the
    /// table, negative ones as zero, in every percentile and the maximum.
    #[test]
    fn whole_numbers_count_as_their_floats() {
        let mut wholes = Percentiles::default();
        let mut floats = Percentiles::default();
        let mut random = 0x5851_f42d_4c95_7f2d_u64;
        for step in 0..20_000i64 {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            let value = match step % 4 {
                0 => 0,
                1 => (random % 40) as i64 - 5,
                2 => (random % 3000) as i64,
                _ => (random % 1_000_000) as i64,
            };
            wholes.add_whole(value);
            floats.add(value as f64);
        }
        for q in [1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            assert_eq!(wholes.percentile(q), floats.percentile(q), "p{q}");
        }
        assert_eq!(wholes.max(), floats.max());
        assert_eq!(wholes.count(), floats.count());
    }

    #[test]
    fn nearest_rank_when_exact() {
        let mut p = Percentiles::default();
        for value in [15.0, 20.0, 35.0, 40.0, 50.0] {
            p.add(value);
        }
        assert_eq!(p.percentile(30.0), Some(20.0));
        assert_eq!(p.percentile(40.0), Some(20.0));
        assert_eq!(p.percentile(50.0), Some(35.0));
        assert_eq!(p.percentile(100.0), Some(50.0));
        assert_eq!(p.max(), Some(50.0));
        assert_eq!(Percentiles::default().percentile(50.0), None);
    }

    #[test]
    fn bucketed_percentiles_stay_within_one_percent() {
        let mut p = Percentiles::default();
        let values: Vec<f64> = (1..=100_000).map(|i| i as f64 * 0.37).collect();
        for value in &values {
            p.add(*value);
        }
        for q in [50.0, 95.0, 99.0] {
            let exact = values[((q / 100.0) * values.len() as f64).ceil() as usize - 1];
            let estimate = p.percentile(q).unwrap();
            assert!(
                (estimate - exact).abs() <= exact * RELATIVE_ERROR,
                "p{q}: {estimate} vs {exact}"
            );
        }
        assert_eq!(p.count(), 100_000);
    }

    #[test]
    fn bucket_counts_match_a_plain_count_per_bucket() {
        // A pseudo-random walk over buckets: new ones below and above the range met, old
        // ones again, the floor, far jumps (the in-place path and the growing path alike).
        let mut buckets = Buckets::default();
        let mut reference: std::collections::BTreeMap<i32, u64> = Default::default();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut bucket: i32 = 0;
        for step in 0..20_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bucket = match state % 16 {
                0 => i32::MIN,
                1 => bucket.saturating_sub((state >> 8) as i32 % 500),
                2 => bucket.saturating_add((state >> 8) as i32 % 500),
                _ => bucket
                    .saturating_add((state >> 8) as i32 % 7 - 3)
                    .max(-2000),
            };
            let count = 1 + step % 3;
            buckets.add(bucket, count);
            *reference.entry(bucket).or_default() += count;
            if bucket == i32::MIN {
                bucket = 0;
            }
        }
        let counted: Vec<(i32, u64)> = buckets.iter().collect();
        let expected: Vec<(i32, u64)> = reference.into_iter().collect();
        assert_eq!(counted, expected);
    }

    #[test]
    fn fractional_values_take_the_bucket_the_formula_gives() {
        // Around the whole numbers the table answers for, and at its end.
        for value in [
            0.0,
            1e-300,
            f64::MIN_POSITIVE,
            0.999_999_999,
            1.000_000_001,
            1023.0,
            1_023.999_999_9,
            1024.0,
            1_024.000_001,
            4096.5,
            1e300,
        ] {
            assert_eq!(bucket_of(value), bucket_by_formula(value), "{value}");
        }
    }

    #[test]
    fn buckets_grow_both_ways_and_count_the_floor_apart() {
        let mut p = Percentiles::default();
        let values: Vec<f64> = (0..5000)
            .map(|i| match i % 4 {
                0 => 0.0,
                1 => 1e6 / (i as f64 + 1.0),
                2 => (i as f64).powi(2),
                _ => 0.0005 * i as f64,
            })
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for value in &values {
            p.add(*value);
        }
        for q in [1.0, 25.0, 50.0, 75.0, 99.0, 100.0] {
            let exact = sorted[((q / 100.0) * sorted.len() as f64).ceil() as usize - 1];
            let estimate = p.percentile(q).unwrap();
            assert!(
                (estimate - exact).abs() <= exact * RELATIVE_ERROR
                    || (exact <= FLOOR && estimate == 0.0),
                "p{q}: {estimate} vs {exact}"
            );
        }
    }

    #[test]
    fn merging_equals_adding_everything() {
        let (mut a, mut b, mut all) = (
            Percentiles::default(),
            Percentiles::default(),
            Percentiles::default(),
        );
        for i in 0..6000 {
            let value = (i % 977) as f64;
            if i % 3 == 0 {
                a.add(value)
            } else {
                b.add(value)
            }
            all.add(value);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        for q in [50.0, 95.0, 99.0] {
            assert_eq!(a.percentile(q), all.percentile(q));
        }
    }
}
