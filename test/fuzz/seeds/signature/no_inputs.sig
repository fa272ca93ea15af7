sparq-signature 1
inputs 0
outputs 1
out uint64 3 9223372036854775807 -1 0
