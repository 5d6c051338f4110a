import { getCountries } from 'libphonenumber-js/max';

/** Every country with a calling code (R2), for the country pickers. */
export const countryCodes: readonly string[] = [...getCountries()].sort();
