//! One file holding several pods' logs one after another (`kubectl logs -l app=x --prefix`
//! without `-f` prints each pod's log in turn): found by a scan of its kubectl prefixes, then
//! read as one input per pod run, each from its own offset, so the merge puts their events in
//! time order with its usual bounded window (one pass over the file and one more to find the
//! runs; no run is held in memory).

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// One pod's run of lines in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    pub pod: String,
    /// Where the run starts, in bytes, and its length.
    pub offset: u64,
    pub len: u64,
    /// The number of the line before the run's first (0 for the file's first run).
    pub lines_before: u64,
}

/// Bytes looked at to decide whether a file is a kubectl pod stream at all.
const HEAD: usize = 64 * 1024;

/// The pod of a `[pod/NAME/CONTAINER] ...` line.
fn pod_of(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"[pod/")?;
    let end = memchr::memchr(b'/', rest)?;
    Some(&rest[..end])
}

/// The pod runs of a plain file whose lines carry kubectl `[pod/...]` prefixes, when its pods
/// follow one another (each pod in one run, two pods or more); `None` for any other file (one
/// pod, pods interleaved as `kubectl logs -f` prints them, no prefixes, compressed).
pub(crate) fn pod_runs(path: &Path) -> io::Result<Option<Vec<Run>>> {
    // Only a regular file can be read twice (a pipe's bytes would be taken from the read).
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut file = File::open(path)?;
    let mut head = vec![0u8; HEAD];
    let read = super::store::read_up_to(&mut file, &mut head)?;
    head.truncate(read);
    // Only a file that starts as a kubectl pod stream is scanned.
    if pod_of(&head).is_none() {
        return Ok(None);
    }
    let file = File::open(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut runs: Vec<Run> = Vec::new();
    let mut offset = 0u64;
    let mut line_number = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let length = reader.read_until(b'\n', &mut line)? as u64;
        if length == 0 {
            break;
        }
        line_number += 1;
        // Lines without a prefix (none with --prefix; a cut line, say) stay in their run.
        if let Some(pod) = pod_of(&line) {
            let same = runs.last().is_some_and(|run| run.pod.as_bytes() == pod);
            if !same {
                let pod = String::from_utf8_lossy(pod).into_owned();
                if runs.iter().any(|run| run.pod == pod) {
                    return Ok(None); // interleaved: one stream, in time order already
                }
                if let Some(last) = runs.last_mut() {
                    last.len = offset - last.offset;
                }
                runs.push(Run {
                    pod,
                    offset,
                    len: 0,
                    lines_before: line_number - 1,
                });
            }
        }
        offset += length;
    }
    if let Some(last) = runs.last_mut() {
        last.len = offset - last.offset;
    }
    Ok((runs.len() > 1).then_some(runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_of(text: &str) -> Option<Vec<(String, u64, u64, u64)>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pods.log");
        std::fs::write(&path, text).unwrap();
        pod_runs(&path).unwrap().map(|runs| {
            runs.into_iter()
                .map(|run| (run.pod, run.offset, run.len, run.lines_before))
                .collect()
        })
    }

    #[test]
    fn pods_one_after_another_are_runs() {
        let a = "[pod/a/w] {\"x\":1}\n[pod/a/w] {\"x\":2}\n";
        let b = "[pod/b/w] {\"x\":3}\n";
        let runs = runs_of(&format!("{a}{b}")).unwrap();
        assert_eq!(
            runs,
            vec![
                ("a".into(), 0, a.len() as u64, 0),
                ("b".into(), a.len() as u64, b.len() as u64, 2)
            ]
        );
    }

    #[test]
    fn interleaved_single_or_plain_files_are_one_input() {
        assert_eq!(runs_of("[pod/a/w] 1\n[pod/b/w] 2\n[pod/a/w] 3\n"), None);
        assert_eq!(runs_of("[pod/a/w] 1\n[pod/a/w] 2\n"), None);
        assert_eq!(runs_of("{\"x\":1}\n{\"x\":2}\n"), None);
    }
}
