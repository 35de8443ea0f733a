package report

import (
	"bytes"
	"fmt"
	"strings"
)

// renderMarkdown writes a summary for a ticket: the evidence, the
// comparison table, the totals and the target summary.
func renderMarkdown(buf *bytes.Buffer, data Data) {
	r, c := data.Record, data.Comparison
	fmt.Fprintf(buf, "# Recovery %s report: %s\n\n", mdCell(orDash(r.Kind)), mdCell(data.App))

	buf.WriteString("| Evidence | Value |\n|---|---|\n")
	for _, f := range evidence(data.App, r, c, data.Generated) {
		fmt.Fprintf(buf, "| %s | %s |\n", f.Label, mdCell(f.Value))
	}

	buf.WriteString("\n## Components\n\n")
	mdTable(buf, c.Components, c.Target)
	buf.WriteString("\n## Totals\n\n")
	mdTable(buf, c.Totals, c.Target)
	fmt.Fprintf(buf, "\n**Target:** %s\n", mdCell(fmtSummary(c)))

	if len(r.Approvals) > 0 {
		buf.WriteString("\n## Approvals\n\n| Phase | Step | By | At |\n|---|---|---|---|\n")
		for _, a := range r.Approvals {
			fmt.Fprintf(buf, "| %s | %s | %s | %s |\n",
				mdCell(a.Phase), mdCell(a.Step), mdCell(a.By), fmtTime(a.At))
		}
	}
	if len(r.Cleanup) > 0 {
		buf.WriteString("\n## Cleanup\n\n" +
			"| Region | Resource | Action | Outcome | At | Detail |\n|---|---|---|---|---|---|\n")
		for _, cl := range r.Cleanup {
			fmt.Fprintf(buf, "| %s | %s | %s | %s | %s | %s |\n",
				mdCell(cl.Region), mdCell(cl.Resource), mdCell(cl.Action),
				mdCell(statusMarkOutcome(cl.Outcome)), fmtTime(cl.At), mdCell(orDash(cl.Detail)))
		}
	}
}

func mdTable(buf *bytes.Buffer, rows []Row, target float64) {
	buf.WriteString("| Component | Kind | Now | Previous | Change vs previous " +
		"| Baseline | Change vs baseline | Target |\n" +
		"|---|---|--:|--:|--:|--:|--:|---|\n")
	for _, row := range rows {
		fmt.Fprintf(buf, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			mdCell(rowLabel(row)), mdCell(orDash(row.Kind)), fmtNow(row),
			fmtRef(row.Previous), fmtChange(row.Previous),
			fmtRef(row.Baseline), fmtChange(row.Baseline),
			mdCell(fmtStatus(row, target)))
	}
}

// mdCell makes text safe inside a table cell: it escapes the characters
// Markdown would read as markup and keeps the cell on one line.
func mdCell(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_[]<>|#!~&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
