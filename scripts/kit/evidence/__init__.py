"""Evidence: stamps naming the series a result is of, the ledger of proven bases, and whether results are current."""
