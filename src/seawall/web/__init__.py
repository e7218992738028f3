"""The HTTP building blocks every face and feature uses: `Route`/`Call`/`Router` (methods, path
parameters, who may call, typed bodies), the shared body and answer models, and the plumbing
for reading JSON bodies and writing errors and SSE. Knows no feature and no gateway: feature
packages declare their routes with it, the assembly collects them, api/ serves them."""
