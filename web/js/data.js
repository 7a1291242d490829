// Catalogues the console shows: data/hazards.csv, data/severities.csv,
// data/audiences.csv of the daemon, and the tiers. Names follow the
// interface language.
import { lang } from './i18n.js';

export const HAZARDS = [
  // code, zh, en, core
  ['typhoon', '台风', 'Typhoon', true],
  ['rainstorm', '暴雨', 'Rainstorm', true],
  ['flood', '洪水', 'Flood', true],
  ['heat', '高温', 'Heat', true],
  ['cold', '寒冷', 'Cold', true],
  ['thunderstorm_gale', '雷雨大风', 'Thunderstorm and gale', true],
  ['landslide', '地质灾害', 'Landslide and debris flow', true],
  ['storm_surge', '风暴潮', 'Storm surge', true],
  ['epidemic', '传染病疫情', 'Epidemic', true],
  ['hazardous_chemicals', '危险化学品泄漏', 'Hazardous chemical leak', true],
  ['fire', '火灾', 'Fire', true],
  ['earthquake', '地震', 'Earthquake', true],
  ['fog', '大雾', 'Fog', false],
  ['haze', '灰霾', 'Haze', false],
  ['hail', '冰雹', 'Hail', false],
  ['forest_fire', '森林火险', 'Forest fire danger', false],
].map(([code, zh, en, core]) => ({ code, zh, en, core }));

export const SEVERITIES = [
  { code: 'blue', level: 'IV', roman: 'Ⅳ', zh: '蓝色', en: 'Blue', grade_zh: '一般', grade_en: 'general', colour: '#1E6FD9', ink: '#fff' },
  { code: 'yellow', level: 'III', roman: 'Ⅲ', zh: '黄色', en: 'Yellow', grade_zh: '较重', grade_en: 'heavy', colour: '#FFD000', ink: '#222' },
  { code: 'orange', level: 'II', roman: 'Ⅱ', zh: '橙色', en: 'Orange', grade_zh: '严重', grade_en: 'serious', colour: '#FF7A00', ink: '#222' },
  { code: 'red', level: 'I', roman: 'Ⅰ', zh: '红色', en: 'Red', grade_zh: '特别严重', grade_en: 'especially serious', colour: '#E60012', ink: '#fff' },
];

export const AUDIENCES = [
  { code: 'general', zh: '公众', en: 'General public' },
  { code: 'elderly', zh: '老年人', en: 'Elderly people' },
  { code: 'children', zh: '儿童和学生', en: 'Children and students' },
  { code: 'farmers', zh: '农民', en: 'Farmers' },
  { code: 'workers', zh: '产业工人', en: 'Industrial workers' },
];

export const TIERS = [
  { code: 'province', zh: '省级', en: 'Province' },
  { code: 'city', zh: '市级', en: 'City' },
  { code: 'county', zh: '县（区）', en: 'County' },
  { code: 'town', zh: '镇（街道）', en: 'Town' },
  { code: 'village', zh: '村（社区）', en: 'Village' },
];

export const LOCALES = [
  { code: 'zh-CN', zh: '中文', en: 'Chinese' },
  { code: 'en', zh: '英文', en: 'English' },
];

// Durations offered when declaring (the API takes 30m, 6h, 2d…).
export const DURATIONS = ['30m', '1h', '2h', '3h', '6h', '12h', '24h', '2d', '3d', '7d'];

const pick = (o) => (o ? (lang() === 'en' ? o.en : o.zh) : null);

export const hazard = (code) => HAZARDS.find((x) => x.code === code);
export const severity = (code) => SEVERITIES.find((x) => x.code === code);

export function hazardName(code) {
  if (code === '*') return lang() === 'en' ? '* (any hazard)' : '*（通用）';
  return pick(hazard(code)) ?? code;
}
export function severityName(code) {
  return pick(severity(code)) ?? code;
}
export function tierName(code) {
  return pick(TIERS.find((x) => x.code === code)) ?? code;
}
export function audienceName(code) {
  return pick(AUDIENCES.find((x) => x.code === code)) ?? code;
}
export function localeName(code) {
  return pick(LOCALES.find((x) => x.code === code)) ?? code;
}
export function colourOf(code) {
  return severity(code)?.colour ?? '#808080';
}
export function inkOf(code) {
  return severity(code)?.ink ?? '#fff';
}
