module mqstack/proto

go 1.26.8
