// The operating system kinds offered for images, ISOs and templates (the
// API takes any text; these are the ones the console names).
export const OS_TYPES = ['windows_10', 'windows_11', 'windows_7', 'windows_server', 'linux', 'other'] as const;
