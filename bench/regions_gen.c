/* regions_gen: a synthetic region tree of national shape for the fan-out
 * benchmark (bench/fanout --synthetic-villages N), written as the CSV that
 * `scicastd import-regions` takes: code,name,level,parent_code.
 *
 * The shared data has Guangdong and Zhongshan only; the national file
 * (663,128 rows) could not be stored. The fan-out's cost depends on the
 * shape of the tree (how many regions per level, how deep the topics are,
 * how many towns the coverage lists), not on the real names, so this makes
 * a tree of the national shape: 31 provinces (their real codes and names),
 * about 340 cities, 3,300 counties, 41,000 towns and N villages (618,000 by
 * default). For a smaller N the cities, counties and towns shrink in
 * proportion, never below one child per parent, so a 60,000-village tree
 * looks like a tenth of the country rather than a country of huge towns.
 *
 * Codes are 12-digit NBS-style: province 2 + city 2 + county 2 + town 3 +
 * village 3, with the numbering NBS uses (districts 02-20, counties 21-80,
 * county-level cities 81-99; street offices 001-099, towns 100-199,
 * townships 200-299; residents' committees 001-199, village committees
 * 200-999), so the digit ranges and topic lengths are the real ones. Where
 * a parent has more children than its range holds, its children are
 * numbered 01.. (001..) in order instead. Names are two characters from a
 * pool of common place-name characters plus the suffix of the level.
 *
 * The output is deterministic for a given N and --seed (a splitmix64
 * stream), and sorted by code (a depth-first walk in code order), like the
 * NBS files. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

/* The national shape (2021 NBS counts, rounded) the default N belongs to. */
#define NAT_VILLAGES 618000.0
#define NAT_CITIES 340.0
#define NAT_COUNTIES 3300.0
#define NAT_TOWNS 41000.0

static const struct {
	int code;
	const char *name;
} provinces[] = {
	{ 11, "北京市" }, { 12, "天津市" }, { 13, "河北省" }, { 14, "山西省" },
	{ 15, "内蒙古自治区" }, { 21, "辽宁省" }, { 22, "吉林省" },
	{ 23, "黑龙江省" }, { 31, "上海市" }, { 32, "江苏省" }, { 33, "浙江省" },
	{ 34, "安徽省" }, { 35, "福建省" }, { 36, "江西省" }, { 37, "山东省" },
	{ 41, "河南省" }, { 42, "湖北省" }, { 43, "湖南省" }, { 44, "广东省" },
	{ 45, "广西壮族自治区" }, { 46, "海南省" }, { 50, "重庆市" },
	{ 51, "四川省" }, { 52, "贵州省" }, { 53, "云南省" }, { 54, "西藏自治区" },
	{ 61, "陕西省" }, { 62, "甘肃省" }, { 63, "青海省" },
	{ 64, "宁夏回族自治区" }, { 65, "新疆维吾尔自治区" },
};
#define NPROV ((long)(sizeof provinces / sizeof provinces[0]))

/* Characters that are common in Chinese place names; two of them make a
 * name that reads like one (安平镇, 东兴村委会). */
static const char *const name_chars[] = {
	"安", "平", "和", "兴", "东", "西", "南", "北", "中", "新", "长", "青",
	"山", "河", "江", "湖", "海", "源", "泉", "林", "石", "桥", "田", "家",
	"庄", "口", "岭", "坪", "塘", "湾", "洲", "坝", "沙", "阳", "华", "明",
	"德", "福", "宁", "康", "永", "泰", "丰", "盛", "富", "贵", "兰", "花",
	"桂", "梅", "竹", "松", "柏", "龙", "凤", "云", "水", "金", "玉", "宝",
	"光", "清", "溪", "峰", "岗", "坑", "头", "尾", "上", "下", "大", "小",
	"高", "白", "红", "黄", "绿", "古", "城", "乡", "里", "坊", "营", "寨",
	"堡", "集", "店", "铺", "埠", "渡", "港", "浦", "滨", "圩", "垌", "墩",
	"仁", "义", "礼", "信", "文", "武", "昌", "荣", "胜", "利", "民", "乐",
	"合", "顺", "吉", "祥", "瑞", "庆", "隆", "广", "太", "仙", "鹤", "鹿",
};
#define NCHARS (sizeof name_chars / sizeof name_chars[0])

static uint64_t rng_state;

/* splitmix64: small, fast, and the same stream on every machine. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / 9007199254740992.0; /* 2^53 */
}

/* Spreads `total` children over `parents` parents: one each, and the rest
 * in proportion to a random weight in [lo, hi] per parent, so levels are
 * uneven the way real ones are (a province of 21 cities next to one of
 * 2) but the totals are exact. */
static int distribute(long total, long parents, double lo, double hi, long *out)
{
	if (parents <= 0 || total < parents)
		return -1;
	double *w = malloc((size_t)parents * sizeof *w);
	if (!w)
		return -1;
	double sum = 0;
	for (long i = 0; i < parents; i++) {
		w[i] = lo + (hi - lo) * rng_unit();
		sum += w[i];
	}
	long extra = total - parents, given = 0;
	double cum = 0;
	for (long i = 0; i < parents; i++) {
		cum += w[i];
		/* the cumulative share, rounded down, telescopes to `extra`;
		 * the last parent takes what rounding left */
		long upto = i == parents - 1 ? extra : (long)((double)extra * cum / sum);
		if (upto > extra)
			upto = extra;
		if (upto < given)
			upto = given;
		out[i] = 1 + (upto - given);
		given = upto;
	}
	free(w);
	return 0;
}

/* A child's number within its parent: the NBS ranges by kind when the
 * parent's children fit them, else plain order. kinds[k] is the share of
 * kind k, base[k] its first number, room[k] how many numbers it has. */
struct numbering {
	int nkinds;
	double share[3];
	int base[3];
	int room[3];
	const char *suffix[3];
	int plain_max;            /* largest number in plain order */
	const char *plain_suffix;
};

struct assigned {
	int number;
	const char *suffix;
};

static int number_children(const struct numbering *nb, long m, struct assigned *out)
{
	long count[3] = { 0, 0, 0 }, left = m;
	for (int k = 0; k < nb->nkinds - 1; k++) {
		count[k] = (long)((double)m * nb->share[k] + 0.5);
		if (count[k] > left)
			count[k] = left;
		left -= count[k];
	}
	count[nb->nkinds - 1] = left;
	int fits = 1;
	for (int k = 0; k < nb->nkinds; k++)
		if (count[k] > nb->room[k])
			fits = 0;
	if (fits) {
		long j = 0;
		for (int k = 0; k < nb->nkinds; k++)
			for (long i = 0; i < count[k]; i++, j++) {
				out[j].number = nb->base[k] + (int)i;
				out[j].suffix = nb->suffix[k];
			}
		return 0;
	}
	if (m > nb->plain_max)
		return -1;
	for (long j = 0; j < m; j++) {
		out[j].number = (int)j + 1;
		out[j].suffix = nb->plain_suffix;
	}
	return 0;
}

static const struct numbering county_nb = {
	3, { 0.35, 0.55, 0.10 }, { 2, 21, 81 }, { 19, 60, 19 },
	{ "区", "县", "市" }, 99, "区"
};
static const struct numbering town_nb = {
	3, { 0.30, 0.55, 0.15 }, { 1, 100, 200 }, { 99, 100, 100 },
	{ "街道", "镇", "乡" }, 999, "镇"
};
static const struct numbering village_nb = {
	2, { 0.25, 0.75, 0 }, { 1, 200, 0 }, { 199, 800, 0 },
	{ "社区居民委员会", "村委会", NULL }, 999, "村委会"
};

static void put_name(FILE *f, const char *suffix)
{
	fputs(name_chars[rng_next() % NCHARS], f);
	fputs(name_chars[rng_next() % NCHARS], f);
	fputs(suffix, f);
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: regions_gen [--villages N] [--seed S]\n"
		"  Writes a synthetic region tree of national shape to standard\n"
		"  output as code,name,level,parent_code: 31 provinces and, for\n"
		"  N villages (default 618000), about 340, 3300 and 41000 cities,\n"
		"  counties and towns scaled by N / 618000. Deterministic for N\n"
		"  and S (default 1). A summary goes to standard error.\n");
}

static long scaled(double national, double f, long at_least)
{
	long v = (long)(national * f + 0.5);
	return v < at_least ? at_least : v;
}

int main(int argc, char **argv)
{
	long villages = (long)NAT_VILLAGES, seed = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--villages") == 0 && i + 1 < argc) {
			long long v;
			if (bench_parse_ll(argv[++i], 1000, 50000000, &v) < 0) {
				fprintf(stderr, "regions_gen: --villages wants a number from 1000 to 50000000\n");
				return 2;
			}
			villages = (long)v;
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			long long v;
			if (bench_parse_ll(argv[++i], 0, 0x7fffffffL, &v) < 0) {
				fprintf(stderr, "regions_gen: --seed wants a non-negative number\n");
				return 2;
			}
			seed = (long)v;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	rng_state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 1;

	double f = (double)villages / NAT_VILLAGES;
	long ncity = scaled(NAT_CITIES, f, NPROV);
	long ncounty = scaled(NAT_COUNTIES, f, ncity);
	long ntown = scaled(NAT_TOWNS, f, ncounty);
	if (ntown > villages)
		ntown = villages;
	if (ncounty > ntown)
		ncounty = ntown;
	if (ncity > ncounty)
		ncity = ncounty;

	/* One array per level: how many children each region of the level
	 * above has. Owned here, freed once at the end. */
	long *city_of = malloc((size_t)NPROV * sizeof(long));
	long *county_of = malloc((size_t)ncity * sizeof(long));
	long *town_of = malloc((size_t)ncounty * sizeof(long));
	long *village_of = malloc((size_t)ntown * sizeof(long));
	struct assigned *num = malloc(1000 * sizeof *num);
	int rc = 1;
	if (!city_of || !county_of || !town_of || !village_of || !num) {
		fprintf(stderr, "regions_gen: out of memory\n");
		goto done;
	}
	/* Wider weights high up: provinces differ more than towns do. */
	if (distribute(ncity, NPROV, 0.3, 1.7, city_of) < 0 ||
	    distribute(ncounty, ncity, 0.4, 1.6, county_of) < 0 ||
	    distribute(ntown, ncounty, 0.5, 1.5, town_of) < 0 ||
	    distribute(villages, ntown, 0.5, 1.5, village_of) < 0) {
		fprintf(stderr, "regions_gen: cannot spread the levels\n");
		goto done;
	}

	/* A big stdout buffer: 660,000 short lines. */
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	FILE *o = stdout;
	fputs("code,name,level,parent_code\n", o);
	long ci = 0, ki = 0, ti = 0;
	for (long p = 0; p < NPROV; p++) {
		long pc = provinces[p].code;
		fprintf(o, "%02ld0000000000,%s,province,\n", pc, provinces[p].name);
		if (city_of[p] > 99) {
			fprintf(stderr, "regions_gen: %ld cities in one province do not fit 2 digits\n", city_of[p]);
			goto done;
		}
		for (long c = 1; c <= city_of[p]; c++, ci++) {
			long city = pc * 100 + c;
			fprintf(o, "%04ld00000000,", city);
			put_name(o, rng_next() % 20 ? "市" : "自治州");
			fprintf(o, ",city,%02ld0000000000\n", pc);
			if (number_children(&county_nb, county_of[ci], num) < 0) {
				fprintf(stderr, "regions_gen: %ld counties in one city do not fit 2 digits\n", county_of[ci]);
				goto done;
			}
			/* num[] is reused below: keep this city's numbering */
			struct assigned counties[100];
			memcpy(counties, num, (size_t)county_of[ci] * sizeof *num);
			for (long k = 0; k < county_of[ci]; k++, ki++) {
				long county = city * 100 + counties[k].number;
				fprintf(o, "%06ld000000,", county);
				put_name(o, counties[k].suffix);
				fprintf(o, ",county,%04ld00000000\n", city);
				if (number_children(&town_nb, town_of[ki], num) < 0) {
					fprintf(stderr, "regions_gen: %ld towns in one county do not fit 3 digits\n", town_of[ki]);
					goto done;
				}
				struct assigned towns[1000];
				memcpy(towns, num, (size_t)town_of[ki] * sizeof *num);
				for (long t = 0; t < town_of[ki]; t++, ti++) {
					long long town = (long long)county * 1000 + towns[t].number;
					fprintf(o, "%09lld000,", town);
					put_name(o, towns[t].suffix);
					fprintf(o, ",town,%06ld000000\n", county);
					if (number_children(&village_nb, village_of[ti], num) < 0) {
						fprintf(stderr, "regions_gen: %ld villages in one town do not fit 3 digits\n", village_of[ti]);
						goto done;
					}
					for (long v = 0; v < village_of[ti]; v++) {
						fprintf(o, "%09lld%03d,", town, num[v].number);
						put_name(o, num[v].suffix);
						fprintf(o, ",village,%09lld000\n", town);
					}
				}
			}
		}
	}
	if (fflush(o) != 0 || ferror(o)) {
		perror("regions_gen: writing");
		goto done;
	}
	fprintf(stderr, "regions_gen: %ld provinces, %ld cities, %ld counties, %ld towns, %ld villages (%ld regions)\n",
		NPROV, ncity, ncounty, ntown, villages, NPROV + ncity + ncounty + ntown + villages);
	rc = 0;
done:
	free(city_of);
	free(county_of);
	free(town_of);
	free(village_of);
	free(num);
	return rc;
}
