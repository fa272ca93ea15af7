sparq-signature 1
inputs 3
a float32 2 -1 3
b float32 1 -1
c%2Fd int64 2 -1 -1
outputs 1
y float32 1 -1
equal N 2 0 0 1 0
equal batch%2Fsize 3 0 0 1 0 2 1
