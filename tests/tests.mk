tests: ; @true
