"""The annual report, in parts: figures into words (`words`), the template's context
(`context`), the data-quality appendix (`quality`), the charts' data (`chart_data`) and the
.docx itself (`docx`). `pipeline.reporting.report.report` runs them."""
