import { vmmVitestConfig } from '../../vitest.shared.ts';

export default vmmVitestConfig();
