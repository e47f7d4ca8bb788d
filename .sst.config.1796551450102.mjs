import { createRequire as topLevelCreateRequire } from 'module';const require = topLevelCreateRequire(import.meta.url);

// sst.config.ts
var sst_config_default = {
  config() {
    return {
      name: "riffle",
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1"
    };
  }
};
export {
  sst_config_default as default
};
