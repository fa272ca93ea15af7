sparq-signature 1
inputs 2
x float32 4 1 3 224 224
mask bool 2 -1 16
outputs 1
y float32 2 1 1000
