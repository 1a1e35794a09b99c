"""The benchmark harness behind `invoke bench`: a synthetic book and the timed builds."""
