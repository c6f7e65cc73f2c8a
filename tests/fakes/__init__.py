"""Local HTTP fakes of the vendors, following their documented request and response shapes
(including errors), for contract tests and for running the whole pipeline offline."""
