BoutputJí>™÷#>V
]>