"""A small evaluation runner: suites of prompts with what a good answer must contain, run against models or
combos through the gateway's own request path, with pass rate, latency, tokens and cost per target.

- `suites`: what a suite is and the checks on it (one place, for the API and the dashboard);
- `runner`: sending each case to the gateway and scoring the answers;
- `history`: saved suites and the results of past runs in the store.
"""
