# Script-driven tests register here.
