//! A crowd file made of some rows of another, for a resend: the rows are picked by their
//! 1-based data row number and written in the source's order, the receiver column first and
//! the variables in header order, one record in memory at a time. Bad rows of the source are
//! never picked (they had no message).

use crate::error::CrowdError;
use crate::model::{Checkpoint, CrowdFormat, RowOutcome};
use crate::reader::CrowdReader;
use std::io::{self, Read, Seek, Write};

/// Writes the valid rows of `source` for which `keep(row)` holds to `out` as a crowd file in
/// `format`'s receiver column; returns how many rows it wrote.
pub fn write_subset<R: Read + Seek, W: Write>(
    source: R,
    format: &CrowdFormat,
    mut keep: impl FnMut(u64) -> bool,
    out: W,
) -> Result<u64, CrowdError> {
    let reader = CrowdReader::open(source, format, Checkpoint::default())?;
    let columns = reader.columns();
    let mut writer = csv::Writer::from_writer(out);
    let header = std::iter::once(reader.receiver_column()).chain(columns.iter().map(String::as_str));
    writer.write_record(header).map_err(io::Error::from)?;
    let mut written = 0;
    for outcome in reader {
        let RowOutcome::Valid(row) = outcome? else { continue };
        if !keep(row.row) {
            continue;
        }
        let values = columns.iter().map(|c| row.variables.get(c).map_or("", String::as_str));
        writer.write_record(std::iter::once(row.receiver.as_str()).chain(values)).map_err(io::Error::from)?;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn subset(csv: &str, keep: &[u64]) -> (String, u64) {
        let mut out = Vec::new();
        let written =
            write_subset(Cursor::new(csv.as_bytes()), &CrowdFormat::default(), |row| keep.contains(&row), &mut out)
                .unwrap();
        (String::from_utf8(out).unwrap(), written)
    }

    #[test]
    fn the_picked_rows_keep_their_order_values_and_quoting() {
        let source = "name,userId,city\nAda,u1,\"Paris, FR\"\nBob,u2,Rome\n\"Line\nbreak\",u3,Oslo\nDee,u4,Kyiv\n";
        let (file, written) = subset(source, &[1, 3, 4]);
        assert_eq!(written, 3);
        assert_eq!(file, "userId,name,city\nu1,Ada,\"Paris, FR\"\nu3,\"Line\nbreak\",Oslo\nu4,Dee,Kyiv\n");
        let (again, _) = subset(&file, &[1, 2, 3]);
        assert_eq!(again, file, "the subset reads back as the same crowd");
    }

    #[test]
    fn bad_rows_are_never_written_and_nothing_picked_leaves_the_header() {
        let source = "userId,code\nu1,1\n,2\nu3,3\n";
        assert_eq!(subset(source, &[2]), ("userId,code\n".to_string(), 0), "row 2 has no receiver");
        assert_eq!(subset(source, &[1, 2, 3]).1, 2);
    }
}
