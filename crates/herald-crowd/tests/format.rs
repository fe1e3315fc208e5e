//! Per-case tests of how crowd files are parsed and validated.

mod common;

use common::*;
use herald_crowd::{CrowdFormat, RowOutcome, validate};

#[test]
fn bom_is_stripped_from_the_header() {
    let r = report_ok(b"\xEF\xBB\xBFuserId,name\nu1,Ann\n");
    assert_eq!(r.columns, ["name"]);
    assert_eq!(r.valid_rows, 1);
    assert_eq!(valid_rows(b"\xEF\xBB\xBFuserId,name\nu1,Ann\n")[0].receiver, "u1");
}

#[test]
fn bom_is_stripped_even_when_the_reader_returns_one_byte_at_a_time() {
    let csv = b"\xEF\xBB\xBFuserId,name\r\nu1,Ann\r\n,Bob\r\n";
    let trickled = validate(Trickle(csv), &CrowdFormat::default(), |_| {}).unwrap();
    assert_eq!(trickled, report_ok(csv));
    assert_eq!(trickled.valid_rows, 1);
}

#[test]
fn crlf_line_endings() {
    let csv = b"userId,name\r\nu1,Ann\r\n,Bob\r\nu3,Cy\r\n";
    let r = report_ok(csv);
    assert_eq!((r.rows, r.valid_rows, r.bad_row_count), (3, 2, 1));
    bad(3, 2, "blank", &r);
    let rows = valid_rows(csv);
    assert_eq!(var(&rows[0], "name"), "Ann");
    assert_eq!(var(&rows[1], "name"), "Cy");
    assert_eq!(rows[1].row, 3);
}

#[test]
fn quoted_commas_and_newlines_keep_later_line_numbers_right() {
    let csv = b"userId,note\nu1,\"a, b\"\nu2,\"line1\nline2\r\nline3\"\n,x\nu4,y\n";
    let r = report_ok(csv);
    assert_eq!((r.rows, r.valid_rows), (4, 3));
    // header 1, u1 2, u2 3-5, the blank receiver 6.
    bad(6, 3, "blank", &r);
    let rows = valid_rows(csv);
    assert_eq!(var(&rows[0], "note"), "a, b");
    assert_eq!(var(&rows[1], "note"), "line1\nline2\r\nline3");
    assert_eq!(rows[2].receiver, "u4");
}

#[test]
fn doubled_quotes_inside_quoted_fields() {
    let rows = valid_rows(b"userId,note\nu1,\"say \"\"hi\"\"\"\n");
    assert_eq!(var(&rows[0], "note"), "say \"hi\"");
}

#[test]
fn empty_lines_are_skipped_and_not_rows() {
    let csv = b"\nuserId,n\n\nu1,a\n\n\n,b\r\n\r\nu3,c\n\n";
    let r = report_ok(csv);
    assert_eq!((r.rows, r.valid_rows, r.bad_row_count), (3, 2, 1));
    bad(7, 2, "blank", &r);
    let rows = valid_rows(csv);
    assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn blank_receiver_is_reported_with_its_line() {
    let r = report_ok(b"userId,n\nu1,a\n   ,b\nu3,c\n");
    assert_eq!((r.rows, r.valid_rows, r.bad_row_count), (3, 2, 1));
    let b = bad(3, 2, "blank", &r);
    assert!(b.reason.contains("`userId`"), "{b:?}");
}

#[test]
fn receiver_is_trimmed_and_variables_are_not() {
    let rows = valid_rows(b"userId,n\n  u1 , a \n");
    assert_eq!(rows[0].receiver, "u1");
    assert_eq!(var(&rows[0], "n"), " a ");
}

#[test]
fn an_extra_comma_makes_only_that_row_bad() {
    let r = report_ok(b"userId,n\nu1,a\nu2,b,\nu3,c\n");
    assert_eq!((r.rows, r.valid_rows), (3, 2));
    bad(3, 2, "expected 2 columns, found 3", &r);
}

#[test]
fn a_missing_column_makes_only_that_row_bad() {
    let r = report_ok(b"userId,n,m\nu1,a,b\nu2,b\n");
    bad(3, 2, "expected 3 columns, found 2", &r);
}

/// The console review's case: a stray quote in Frank's row swallowed Grace's, and the report
/// blamed one line for a missing comma while Grace's row vanished without a word.
#[test]
fn a_stray_quote_names_the_lines_it_read_as_one_row() {
    let csv = b"userId,name,code\nu1,Ann,1\nu2,\"Frank,2\nu3,Grace,3\"\nu4,Hal,4\n";
    let r = report_ok(csv);
    assert_eq!((r.rows, r.valid_rows, r.bad_row_count), (3, 2, 1));
    bad(
        3,
        2,
        "lines 3 to 4 were read as one row of 2 columns, not 3: a quote opened on line 3 is closed only on line 4",
        &r,
    );
    // Over a CRLF line break and a further field before the quote, the lines are counted the same.
    let r = report_ok(b"userId,name,code\r\nu1,\"x,y\r\nb\r\nc\",d,e\r\n");
    bad(2, 1, "lines 2 to 4 were read as one row of 4 columns, not 3", &r);
}

#[test]
fn non_utf8_bytes_in_one_row_are_reported_with_the_column() {
    let r = report_ok(b"userId,name,city\nu1,\xff\xfe,x\nu2,ok,y\n");
    assert_eq!((r.rows, r.valid_rows, r.bad_row_count), (2, 1, 1));
    bad(2, 1, "column `name` is not valid UTF-8", &r);
    assert_eq!(valid_rows(b"userId,name,city\nu1,\xff\xfe,x\nu2,ok,y\n")[0].receiver, "u2");
}

#[test]
fn cjk_text_in_values_and_header() {
    let csv = "userId,城市,姓名\nu1,北京,张三\nu2,上海,\"李,四\"\n".as_bytes();
    let r = report_ok(csv);
    assert_eq!(r.columns, ["城市", "姓名"]);
    let rows = valid_rows(csv);
    assert_eq!(var(&rows[0], "城市"), "北京");
    assert_eq!(var(&rows[1], "姓名"), "李,四");
}

#[test]
fn custom_receiver_column_name() {
    let csv = "手机号,name\n13800000000,Ann\n,Bob\n".as_bytes();
    let opts = CrowdFormat::with_receiver_column("手机号");
    let r = validate(csv, &opts, |_| {}).unwrap();
    assert_eq!(r.receiver_column, "手机号");
    assert_eq!(r.columns, ["name"]);
    assert_eq!((r.valid_rows, r.bad_row_count), (1, 1));
    assert!(r.bad_rows[0].reason.contains("`手机号`"));
    // The default column is not there.
    assert!(report(csv).is_err());
}

#[test]
fn a_receiver_over_256_bytes_is_bad() {
    let csv = format!("userId\n{}\n{}\n", "a".repeat(256), "b".repeat(257));
    let r = report_ok(csv.as_bytes());
    assert_eq!(r.valid_rows, 1);
    bad(3, 2, "257 bytes", &r);
}

#[test]
fn trailing_newline_is_optional() {
    for csv in [&b"userId,n\nu1,a\nu2,b"[..], b"userId,n\nu1,a\nu2,b\n", b"userId,n\r\nu1,a\r\nu2,b"] {
        let r = report_ok(csv);
        assert_eq!((r.rows, r.valid_rows), (2, 2), "{csv:?}");
        assert_eq!(var(&valid_rows(csv)[1], "n"), "b");
    }
}

#[test]
fn header_only_file_has_no_rows() {
    let r = report_ok(b"userId,name\n");
    assert_eq!((r.rows, r.valid_rows, r.bad_row_count), (0, 0, 0));
}

#[test]
fn bad_rows_list_is_capped_but_all_are_counted() {
    let mut csv = b"userId,n\n".to_vec();
    for _ in 0..10 {
        csv.extend_from_slice(b",x\n");
    }
    let opts = CrowdFormat { max_reported_bad_rows: 3, ..CrowdFormat::default() };
    let r = validate(&csv[..], &opts, |_| {}).unwrap();
    assert_eq!(r.bad_row_count, 10);
    assert_eq!(r.bad_rows.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn the_tricky_file_reads_row_by_row() {
    let outcomes: Vec<_> = read_all(&tricky_file(), &CrowdFormat::default())
        .into_iter()
        .map(|(o, _)| match o {
            RowOutcome::Valid(r) => (r.row, format!("ok {}", r.receiver)),
            RowOutcome::Invalid(b) => (b.row, format!("bad line {}", b.line)),
        })
        .collect();
    let expected = [
        (1, "ok u1"),
        (2, "ok u2"),
        (3, "bad line 7"),
        (4, "bad line 10"),
        (5, "bad line 11"),
        (6, "ok u5"),
        (7, "ok u6"),
        (8, "ok u7"),
    ];
    assert_eq!(outcomes, expected.map(|(n, s)| (n, s.to_string())), "rows of the tricky file");
}

#[test]
fn report_serializes_in_camel_case() {
    let json = serde_json::to_value(report_ok(b"userId,n\n,x\n")).unwrap();
    assert_eq!(json["badRowCount"], 1);
    assert_eq!(json["validRows"], 0);
    assert_eq!(json["receiverColumn"], "userId");
    assert_eq!(json["badRows"][0]["line"], 2);
}

#[test]
fn progress_reports_bytes_up_to_the_file_length() {
    let csv = tricky_file();
    let mut seen = Vec::new();
    validate(&csv[..], &CrowdFormat::default(), |n| seen.push(n)).unwrap();
    assert_eq!(seen.last().copied(), Some(csv.len() as u64));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
}
