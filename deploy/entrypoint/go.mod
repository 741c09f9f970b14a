module mqstack/deploy/entrypoint

go 1.26.8
