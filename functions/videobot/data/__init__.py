"""The data layer: every SQL statement of the product, one module per table (or pair of
tables that change together). Rows that leave this package are typed (`rows.Job`,
`rows.Segment`, `rows.Gate`); the stages, the lifecycle and the bot never write SQL."""
