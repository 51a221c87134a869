// cdktf's Testing matchers (toHaveResourceWithProperties, toBeValidTerraform, …) for jest.
const cdktf = require("cdktf");
cdktf.Testing.setupJest();
