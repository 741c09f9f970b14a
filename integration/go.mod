module mqstack/integration

go 1.26.8
